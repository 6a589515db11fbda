using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Inference;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;
using WebConsole.TestModels;
using static WebConsole.Unit.Inference.Pipelines.EncoderTestModels;

namespace WebConsole.Unit.Inference.Models;

public sealed class OnnxSessionFactoryTests
{
    private static readonly OnnxRuntimeInfo CpuOnly = new("1.29.0", [ExecutionProviders.Cpu], [ExecutionProviders.Cpu, ExecutionProviders.Cuda], "no GPU here");

    [Fact]
    public async Task Auto_without_cuda_falls_back_to_the_cpu_and_logs_the_provider_and_why()
    {
        var logger = new ListLogger();
        var factory = new OnnxSessionFactory(Options.Create(new InferenceOptions { Device = InferenceDevice.Auto }), logger, () => CpuOnly);

        using var session = factory.Create(await FolderAsync(TestModelKind.BertMeanPooling), numThreads: 2);

        Assert.Equal(InferenceDevice.Cpu, factory.ResolveDevice());
        var line = Assert.Single(logger.Lines);
        Assert.Contains("bert-mean-pooling", line, StringComparison.Ordinal);
        Assert.Contains(ExecutionProviders.Cpu, line, StringComparison.Ordinal);
        Assert.Contains("no GPU here", line, StringComparison.Ordinal);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputNames);
    }

    [Fact]
    public async Task Cuda_configured_without_cuda_refuses_instead_of_running_on_the_cpu()
    {
        var logger = new ListLogger();
        var factory = new OnnxSessionFactory(Options.Create(new InferenceOptions { Device = InferenceDevice.Cuda }), logger, () => CpuOnly);
        var folder = await FolderAsync(TestModelKind.BertMeanPooling);

        Assert.Throws<InferenceDeviceUnavailableException>(() => factory.Create(folder, numThreads: 1));
        Assert.Empty(logger.Lines);
    }

    private sealed class ListLogger : ILogger<OnnxSessionFactory>
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
