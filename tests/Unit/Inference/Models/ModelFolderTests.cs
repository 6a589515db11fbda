using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Models;
using WebConsole.TestModels;
using static WebConsole.Unit.Inference.Pipelines.EncoderTestModels;

namespace WebConsole.Unit.Inference.Models;

public sealed class ModelFolderTests
{
    [Fact]
    public async Task A_sentence_transformers_export_is_read_from_its_folder_layout()
    {
        var mean = await FolderAsync(TestModelKind.BertMeanPooling);
        var cls = await FolderAsync(TestModelKind.BertClsPooling);

        Assert.Equal(Path.Combine(mean.Path, "onnx", "model.onnx"), mean.OnnxPath);
        Assert.Equal(("bert", 32, 512, (int?)null), (mean.Config.ModelType, mean.Config.HiddenSize, mean.Config.MaxPositionEmbeddings, mean.Config.Labels));
        Assert.Equal(["BertModel"], mean.Config.Architectures);
        Assert.Equal(PoolingMode.Mean, mean.SentenceTransformers!.Pooling);
        Assert.Equal(PoolingMode.Cls, cls.SentenceTransformers!.Pooling);
        Assert.True(mean.SentenceTransformers.Normalize);
        Assert.Empty(mean.SentenceTransformers.Prompts);
        Assert.Equal(512, mean.MaxInputLength(mean.LoadTokenizer()));
    }

    [Fact]
    public async Task A_plain_transformers_export_has_no_sentence_transformers_config_and_reads_its_labels()
    {
        var crossEncoder = await FolderAsync(TestModelKind.CrossEncoder);

        Assert.Null(crossEncoder.SentenceTransformers);
        Assert.Equal(["BertForSequenceClassification"], crossEncoder.Config.Architectures);
        Assert.Equal(1, crossEncoder.Config.Labels);
    }

    [Fact]
    public async Task E5_prompts_come_from_config_sentence_transformers()
    {
        var e5 = await FolderAsync(TestModelKind.E5);

        var prompts = EmbeddingPrompts.Resolve("plain-name", e5.SentenceTransformers, registration: null);

        Assert.Equal("query: ", prompts.For(InputType.Search));
        Assert.Equal("query: ", prompts.For(InputType.Unspecified));
        Assert.Equal("passage: ", prompts.For(InputType.Ingest));
    }

    [Theory]
    [InlineData("intfloat/e5-small-v2", true)]
    [InlineData("intfloat/multilingual-e5-large", true)]
    [InlineData(".multilingual-e5-small", true)]
    [InlineData("e5-small-g1", true)]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2", false)]
    [InlineData("bert-base-uncased", false)]
    [InlineData("e5/bert-base-uncased", false)]
    [InlineData("notae5-model", false)]
    public void The_id_convention_recognises_e5_models(string modelId, bool isE5) =>
        Assert.Equal(isE5, EmbeddingPrompts.IsE5(modelId));

    [Fact]
    public void Registered_prefixes_win_over_the_id_convention_and_an_empty_prefix_turns_it_off()
    {
        var convention = EmbeddingPrompts.Resolve("intfloat/e5-base", null, null);
        var overridden = EmbeddingPrompts.Resolve("intfloat/e5-base", null, new ModelRegistration { Path = "/m", QueryPrefix = string.Empty, PassagePrefix = "doc: " });

        Assert.Equal(EmbeddingPrompts.E5, convention);
        Assert.Equal(new EmbeddingPrompts(string.Empty, "doc: "), overridden);
        Assert.Equal(EmbeddingPrompts.None, EmbeddingPrompts.Resolve("bert-base-uncased", null, null));
    }

    [Fact]
    public void A_folder_without_an_onnx_graph_is_unavailable_with_a_reason()
    {
        var folder = Directory.CreateTempSubdirectory("webconsole-model-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "bert"}""");

            var error = Assert.Throws<ModelUnavailableException>(() => ModelFolder.Open("broken", folder));

            Assert.Equal("broken", error.ModelId);
            Assert.Contains("onnx/model.onnx", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Generated_exports_have_the_signature_optimum_writes()
    {
        (TestModelKind Kind, string Output, int[] Dimensions)[] expected =
        [
            (TestModelKind.BertMeanPooling, "last_hidden_state", [-1, -1, 32]),
            (TestModelKind.Splade, "logits", [-1, -1, 30522]),
            (TestModelKind.CrossEncoder, "logits", [-1, 1]),
        ];
        foreach (var (kind, output, dimensions) in expected)
        {
            using var session = new InferenceSession((await FolderAsync(kind)).OnnxPath);

            Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputNames);
            Assert.All(session.InputMetadata.Values, input =>
            {
                Assert.Equal(TensorElementType.Int64, input.ElementDataType);
                Assert.Equal(["batch_size", "sequence_length"], input.SymbolicDimensions);
            });
            var (name, metadata) = Assert.Single(session.OutputMetadata);
            Assert.Equal(output, name);
            Assert.Equal(dimensions, metadata.Dimensions);
        }
    }

    [Fact]
    public async Task The_vocabulary_rebuilt_from_the_npm_package_is_bert_base_uncased()
    {
        var vocabulary = await File.ReadAllLinesAsync(Path.Combine((await FolderAsync(TestModelKind.BertMeanPooling)).Path, "vocab.txt"));

        Assert.Equal(30_522, vocabulary.Length);
        Assert.Equal(["[PAD]", "[unused0]"], vocabulary[..2]);
        Assert.Equal(["[UNK]", "[CLS]", "[SEP]", "[MASK]"], vocabulary[100..104]);
        Assert.Equal("!", vocabulary[999]);
        Assert.Equal("the", vocabulary[1996]);
        Assert.Equal("##s", vocabulary[2015]);
    }
}

public sealed class ModelRegistryTests : IDisposable
{
    private readonly DirectoryInfo _store = Directory.CreateTempSubdirectory("webconsole-store-");

    public void Dispose() => _store.Delete(recursive: true);

    [Fact]
    public async Task Models_are_found_by_id_in_the_store_and_by_registration_from_configuration()
    {
        var source = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        Copy(source, Path.Combine(_store.FullName, "intfloat", "e5-small-v2"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:ModelStorePath"] = _store.FullName,
            ["Inference:Models:my-cls-model:Path"] = await TestModelStore.GetAsync(TestModelKind.BertClsPooling),
            ["Inference:Models:my-cls-model:Normalize"] = "false",
        }).Build();
        var options = new ModelRegistryOptions();
        configuration.GetSection(ModelRegistryOptions.SectionName).Bind(options);
        var registry = new ModelRegistry(Options.Create(options));

        var stored = registry.Get("intfloat/e5-small-v2");
        var registered = registry.Get("MY-CLS-MODEL");

        Assert.Equal(Path.Combine(_store.FullName, "intfloat", "e5-small-v2"), stored.Path);
        Assert.Null(stored.Registration);
        Assert.Equal(PoolingMode.Cls, registered.SentenceTransformers!.Pooling);
        Assert.False(registered.Registration!.Normalize);
        Assert.Same(stored, registry.Get("intfloat/e5-small-v2"));
        Assert.Equal(["intfloat/e5-small-v2", "my-cls-model"], registry.ListIds());
    }

    [Theory]
    [InlineData("missing-model")]
    [InlineData("../outside")]
    [InlineData("intfloat/../../outside")]
    public void Unknown_ids_and_ids_that_would_leave_the_store_are_unavailable(string modelId)
    {
        // A folder beside the store that would open as a model if an id could reach it.
        var outside = Directory.CreateDirectory(Path.Combine(_store.FullName, "outside", "onnx")).Parent!.FullName;
        File.WriteAllText(Path.Combine(outside, "onnx", "model.onnx"), string.Empty);
        File.WriteAllText(Path.Combine(outside, "tokenizer.json"), "{}");
        Directory.CreateDirectory(Path.Combine(_store.FullName, "store", "intfloat"));
        var registry = new ModelRegistry(Options.Create(new ModelRegistryOptions { ModelStorePath = Path.Combine(_store.FullName, "store") }));

        var error = Assert.Throws<ModelUnavailableException>(() => registry.Get(modelId));

        Assert.Equal(modelId, error.ModelId);
        Assert.False(registry.TryGet(modelId, out _));
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
