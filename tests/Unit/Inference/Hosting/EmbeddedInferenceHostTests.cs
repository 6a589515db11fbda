using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Inference;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;
using WebConsole.TestModels;
using WebConsole.TestModels.Decoder;
using WebConsole.Unit.Inference.Pipelines;

namespace WebConsole.Unit.Inference.Hosting;

/// <summary>The host end to end: registry -> deployment (batching, allocations) -> pipeline on the real runtime.</summary>
public sealed class EmbeddedInferenceHostTests : IAsyncLifetime
{
    private DeploymentManager _deployments = null!;
    private EmbeddedInferenceHost _host = null!;

    public async Task InitializeAsync()
    {
        var registrations = new ModelRegistryOptions();
        registrations.Models["mean"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling) };
        registrations.Models["splade"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.Splade) };
        registrations.Models["cross"] = new ModelRegistration { Path = await TestModelStore.GetAsync(TestModelKind.CrossEncoder) };
        registrations.Models["chat"] = new ModelRegistration { Path = await DecoderTestModels.GetAsync(DecoderVariant.Llama3) };
        var sessions = new OnnxSessionFactory(Options.Create(new InferenceOptions { Device = InferenceDevice.Cpu }), NullLogger<OnnxSessionFactory>.Instance);
        _deployments = new DeploymentManager();
        _host = new EmbeddedInferenceHost(new ModelRegistry(Options.Create(registrations)), sessions, _deployments);
    }

    public async Task DisposeAsync() => await _deployments.DisposeAsync();

    [Fact]
    public async Task Concurrent_embedding_requests_through_a_deployment_equal_the_pipeline_run_directly()
    {
        var embedder = _host.GetTextEmbedding(new DeploymentSettings { DeploymentId = "mean-1", ModelId = "mean", Allocations = AllocationSettings.Fixed(2) });
        using var direct = await EncoderTestModels.TextEmbeddingAsync(TestModelKind.BertMeanPooling);
        var expected = await direct.GenerateAsync(EncoderTestModels.Texts);

        // Each text is its own request, all at once: the deployment batches them across requests and allocations.
        var results = await Task.WhenAll(EncoderTestModels.Texts.Select(text => embedder.GenerateAsync([text])));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.True(EncoderTestModels.MaxAbsDifference(expected.Embeddings[i].Vector, results[i].Embeddings[0].Vector) < 1e-5f, $"text {i}");
            Assert.Equal(direct.Tokenize(EncoderTestModels.Texts[i]).Length, results[i].Usage.InputTokens);
        }

        var snapshot = Assert.Single(_deployments.GetSnapshots());
        Assert.Equal(EncoderTestModels.Texts.Count, snapshot.InferenceCount);
    }

    [Fact]
    public async Task Sparse_embedding_and_rerank_through_deployments_equal_the_pipelines()
    {
        var sparse = _host.GetSparseEmbedding(new DeploymentSettings { DeploymentId = "splade-1", ModelId = "splade" });
        using var directSparse = await EncoderTestModels.SparseEmbeddingAsync();
        var text = EncoderTestModels.Texts[3];
        var viaHost = (await sparse.GenerateAsync([text])).Embeddings[0].Weights.ToDictionary(w => w.Key, w => w.Value);
        var viaPipeline = (await directSparse.GenerateAsync([text])).Embeddings[0].Weights;
        Assert.Equal(viaPipeline.Count, viaHost.Count);
        Assert.All(viaPipeline, w => Assert.True(MathF.Abs(w.Value - viaHost[w.Key]) < 1e-5f, w.Key));

        var reranker = _host.GetReranker(new DeploymentSettings { DeploymentId = "cross-1", ModelId = "cross" });
        using var directRerank = await EncoderTestModels.RerankAsync();
        var documents = EncoderTestModels.Texts.Take(5).ToArray();
        var expected = await directRerank.RerankAsync("fast brown fox", documents, new RerankOptions { TopN = 3 });
        var actual = await reranker.RerankAsync("fast brown fox", documents, new RerankOptions { TopN = 3 });
        Assert.Equal(expected.Documents.Select(d => d.Index), actual.Documents.Select(d => d.Index));
        Assert.Equal(expected.Usage, actual.Usage);
    }

    [Fact]
    public async Task An_adaptive_deployment_at_zero_cold_starts_for_the_first_request()
    {
        var embedder = _host.GetTextEmbedding(new DeploymentSettings
        {
            DeploymentId = "mean-adaptive",
            ModelId = "mean",
            Allocations = AllocationSettings.Adaptive(0, 2),
        });
        Assert.Equal(0, _deployments.Find("mean-adaptive")!.GetSnapshot().AllocationCount);

        var result = await embedder.GenerateAsync(["cold start"]);

        Assert.Single(result.Embeddings);
        Assert.Equal(1, _deployments.Find("mean-adaptive")!.GetSnapshot().AllocationCount);
    }

    [Fact]
    public async Task A_cancelled_stream_frees_its_allocation_for_the_next_request()
    {
        var chat = _host.GetGenerator(new DeploymentSettings { DeploymentId = "chat-1", ModelId = "chat", Allocations = AllocationSettings.Fixed(1) });
        ChatMessage[] conversation = [new(ChatRole.User, "Tell me a long story.")];
        var options = new GenerationOptions { MaxOutputTokens = 200 };

        using (var cancellation = new CancellationTokenSource())
        {
            var pieces = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var _ in chat.GetStreamingResponseAsync(conversation, options, cancellation.Token))
                {
                    if (++pieces == 3)
                    {
                        await cancellation.CancelAsync();
                    }
                }
            });
            Assert.Equal(3, pieces);
        }

        // One allocation only: this request can run only if the cancelled one gave it back.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var answer = await chat.GetResponseAsync(conversation, new GenerationOptions { MaxOutputTokens = 5 }, timeout.Token);
        Assert.Equal(5, answer.Usage.OutputTokens);
        Assert.Equal(FinishReason.Length, answer.FinishReason);
    }

    [Fact]
    public void A_missing_model_is_unavailable_and_creates_no_deployment()
    {
        var error = Assert.Throws<ModelUnavailableException>(() => _host.GetTextEmbedding(new DeploymentSettings { DeploymentId = "x", ModelId = "no-such-model" }));
        Assert.Equal("no-such-model", error.ModelId);
        Assert.Empty(_deployments.GetSnapshots());
    }
}
