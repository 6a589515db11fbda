using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;
using WebConsole.TestModels;
using WebConsole.TestModels.Decoder;

namespace WebConsole.Unit.RateLimiting;

/// <summary>
/// Tokens counted before admission (what the rate limits and budgets admit with) equal the usage the embedded host reports
/// once the request ran, for every task type, on generated models and the real runtime.
/// </summary>
public sealed class TokenCountingTests : IAsyncLifetime
{
    private static readonly string[] Texts =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Rate limits count tokens with the endpoint's own tokenizer before admission.",
        "Bonjour le monde",
        string.Join(' ', Enumerable.Repeat("a long input that the model truncates to its maximum length", 200)),
    ];

    private DeploymentManager _deployments = null!;
    private EmbeddedInferenceHost _host = null!;

    public async Task InitializeAsync()
    {
        var registrations = new ModelRegistryOptions();
        registrations.Models["e5"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.E5) };
        registrations.Models["splade"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.Splade) };
        registrations.Models["cross"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.CrossEncoder) };
        registrations.Models["chat"] = new ModelRegistration { Path = await DecoderTestModels.GetAsync(DecoderVariant.Llama3) };
        var sessions = new OnnxSessionFactory(Options.Create(new InferenceOptions { Device = InferenceDevice.Cpu }), NullLogger<OnnxSessionFactory>.Instance);
        _deployments = new DeploymentManager();
        _host = new EmbeddedInferenceHost(new ModelRegistry(Options.Create(registrations)), sessions, _deployments);
    }

    public async Task DisposeAsync() => await _deployments.DisposeAsync();

    [Theory]
    [InlineData(InputType.Search)]
    [InlineData(InputType.Ingest)]
    [InlineData(InputType.Unspecified)]
    public async Task Text_embedding_counts_with_the_input_types_prompt_and_truncation(InputType inputType)
    {
        var embedder = _host.GetTextEmbedding(new DeploymentSettings { DeploymentId = "e5-count", ModelId = "e5" });
        var counted = Assert.IsAssignableFrom<IEmbeddingTokenCounter>(embedder).CountInputTokens(Texts, inputType);
        var result = await embedder.GenerateAsync(Texts, new EmbeddingOptions { InputType = inputType });
        Assert.Equal(result.Usage.InputTokens, counted);
        Assert.True(result.Embeddings[3].IsTruncated);
    }

    [Fact]
    public async Task Sparse_embedding_and_rerank_count_what_they_read()
    {
        var sparse = _host.GetSparseEmbedding(new DeploymentSettings { DeploymentId = "splade-count", ModelId = "splade" });
        var sparseCount = Assert.IsAssignableFrom<IEmbeddingTokenCounter>(sparse).CountInputTokens(Texts, InputType.Ingest);
        Assert.Equal((await sparse.GenerateAsync(Texts)).Usage.InputTokens, sparseCount);

        // Rerank reads the query once per document.
        var reranker = _host.GetReranker(new DeploymentSettings { DeploymentId = "cross-count", ModelId = "cross" });
        var counter = Assert.IsAssignableFrom<IRerankTokenCounter>(reranker);
        var rerankCount = counter.CountInputTokens("fast brown fox", Texts);
        Assert.Equal((await reranker.RerankAsync("fast brown fox", Texts)).Usage.InputTokens, rerankCount);
        Assert.True(counter.CountInputTokens("fast brown fox", Texts[..2]) > counter.CountInputTokens("fox", Texts[..2]));
    }

    [Fact]
    public async Task Chat_counts_the_conversation_rendered_with_the_models_template_and_completion_its_prompt()
    {
        var generator = _host.GetGenerator(new DeploymentSettings { DeploymentId = "chat-count", ModelId = "chat" });
        ChatMessage[] messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Tell me about foxes.")];
        var chatCount = generator.CountPromptTokens(messages);
        var chat = await generator.GetResponseAsync(messages, new GenerationOptions { MaxOutputTokens = 2 });
        Assert.Equal(chat.Usage.InputTokens, chatCount);

        // The template adds its own tokens around the messages' text.
        Assert.True(chatCount > generator.CountPromptTokens("Be brief. Tell me about foxes."));

        var completion = await generator.CompleteAsync("Once upon a time", new GenerationOptions { MaxOutputTokens = 2 });
        Assert.Equal(completion.Usage.InputTokens, generator.CountPromptTokens("Once upon a time"));
    }
}
