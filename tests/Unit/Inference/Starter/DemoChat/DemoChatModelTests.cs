using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Inference;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Generation;
using WebConsole.Inference.Generation.Templates;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;
using WebConsole.Inference.Starter.DemoChat;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Unit.Inference.Starter.DemoChat;

/// <summary>The built demo chat model, run by the real host, decoder session and tokenizer on ONNX Runtime.</summary>
public sealed class DemoChatModelTests(DemoChatFixture fixture) : IClassFixture<DemoChatFixture>, IAsyncLifetime
{
    private static readonly ChatMessage[] WhaleQuestion = [new(ChatRole.User, "Tell me about the white whale and the sea.")];
    private static readonly EncodeOptions NoSpecialTokens = new() { AddSpecialTokens = false };

    private DeploymentManager _deployments = null!;
    private EmbeddedInferenceHost _host = null!;

    private string Folder => fixture.ModelFolder;

    public Task InitializeAsync()
    {
        var registrations = new ModelRegistryOptions();
        registrations.Models[".demo-chat"] = new ModelRegistration { Path = Folder };
        var sessions = new OnnxSessionFactory(Options.Create(new InferenceOptions { Device = InferenceDevice.Cpu }), NullLogger<OnnxSessionFactory>.Instance);
        _deployments = new DeploymentManager();
        _host = new EmbeddedInferenceHost(new ModelRegistry(Options.Create(registrations)), sessions, _deployments);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _deployments.DisposeAsync();

    [Fact]
    public void The_build_writes_a_small_decoder_in_the_export_layout_and_reports_its_progress()
    {
        foreach (var file in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "README.md" })
        {
            Assert.True(File.Exists(Path.Combine(Folder, file)), file);
        }

        var model = ModelFolder.Open(".demo-chat", Folder);
        Assert.Equal(Path.Combine(Folder, "onnx", "model.onnx"), model.OnnxPath);
        Assert.EndsWith("ForCausalLM", Assert.Single(model.Config.Architectures), StringComparison.Ordinal);
        Assert.InRange(new FileInfo(model.OnnxPath).Length, 1 << 20, 12 << 20);

        var tokenizer = model.LoadTokenizer();
        var end = tokenizer.TokenToId("<|end|>");
        Assert.Equal(end, Assert.Single(DecoderModelConfig.FromFolder(Folder).EosTokenIds));
        Assert.Equal(end, tokenizer.Special.Eos);

        var card = File.ReadAllText(Path.Combine(Folder, "README.md"));
        Assert.Contains("does not understand", card, StringComparison.Ordinal);
        Assert.Contains(DemoChatBuilder.PackageName + "@" + DemoChatBuilder.PackageVersion, card, StringComparison.Ordinal);

        Assert.NotEmpty(fixture.Progress);
        Assert.All(fixture.Progress.Zip(fixture.Progress.Skip(1)), pair => Assert.True(pair.Second.Completed >= pair.First.Completed));
        Assert.Equal(fixture.Progress[^1].Total, fixture.Progress[^1].Completed);
    }

    [Fact]
    public async Task The_same_package_builds_the_same_bytes()
    {
        var again = fixture.NewFolder("again");
        await DemoChatBuilder.BuildFromPackageAsync(again, fixture.PackageFolder, progress: null, CancellationToken.None);

        var files = Directory.GetFiles(Folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Folder, f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(files, Directory.GetFiles(again, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(again, f)).Order(StringComparer.Ordinal));
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(Folder, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))), file);
        }
    }

    [Fact]
    public void The_tokenizer_reads_the_book_as_the_builder_counted_it()
    {
        var tokenizer = TokenizerLoader.FromFolder(Folder);
        var book = File.ReadAllText(Path.Combine(fixture.PackageFolder, DemoChatBuilder.CorpusFile));
        var vocabulary = DemoChatVocabulary.FromCorpus(DemoChatText.Paragraphs(book), DemoChatSettings.VocabularySize);
        Assert.Equal(vocabulary.Count, tokenizer.VocabularySize);
        for (var id = 0; id < vocabulary.Count; id++)
        {
            Assert.Equal(vocabulary.Tokens[id], tokenizer.IdToToken(id));
        }

        // Typographic quotes, dashes, contractions, semicolons: the tokenizer splits as the builder did, and decodes to
        // text that reads as the words did.
        foreach (var block in book.Split("\n\n").Skip(1).Take(200))
        {
            var ids = tokenizer.Encode(block, options: NoSpecialTokens).Ids;
            Assert.Equal(DemoChatText.Words(block).Select(vocabulary.Id), ids);
            var known = ids.Where(id => id != DemoChatVocabulary.Unknown).ToArray();
            Assert.Equal(known, tokenizer.Encode(tokenizer.Decode(known), options: NoSpecialTokens).Ids);
        }

        var sentence = tokenizer.Encode("I saw the whale’s white head; “the sea—so calm!”", options: NoSpecialTokens).Ids;
        Assert.DoesNotContain(DemoChatVocabulary.Unknown, sentence);
        Assert.Equal("I saw the whale's white head; the sea — so calm!", tokenizer.Decode(sentence));
    }

    [Fact]
    public async Task A_chat_answer_streams_word_by_word_through_the_host()
    {
        var chat = _host.GetGenerator(new DeploymentSettings { DeploymentId = "demo-chat-1", ModelId = ".demo-chat" });
        var options = new GenerationOptions { Temperature = 0.8f, TopP = 0.95f, Seed = 11, MaxOutputTokens = 80 };

        List<GenerationUpdate> updates = [];
        await foreach (var update in chat.GetStreamingResponseAsync(WhaleQuestion, options))
        {
            updates.Add(update);
        }

        var final = updates[^1];
        var usage = Assert.IsType<UsageDetails>(final.Usage);
        Assert.Contains(final.FinishReason, new FinishReason?[] { FinishReason.Stop, FinishReason.Length });
        Assert.All(updates.SkipLast(1), u => Assert.Null(u.FinishReason));
        var text = string.Concat(updates.Select(u => u.Text));
        Assert.False(string.IsNullOrWhiteSpace(text));

        var tokenizer = TokenizerLoader.FromFolder(Folder);
        var prompt = DecoderTextGenerator.EncodeChat(ChatTemplate.FromFolder(Folder), tokenizer, WhaleQuestion);
        Assert.Equal(prompt.Length, usage.InputTokens);

        // Every generated token is a word or punctuation mark of the vocabulary; each arrived as its own piece.
        var answer = tokenizer.Encode(text, options: NoSpecialTokens).Ids;
        Assert.True(answer.Length >= 3, text);
        Assert.All(answer, id => Assert.False(DemoChatVocabulary.IsSpecial(id), text));
        Assert.Equal(text, tokenizer.Decode(answer));
        Assert.Equal(answer.Length, updates.Count(u => u.Text.Length > 0));
        Assert.Equal(answer.Length + (final.FinishReason == FinishReason.Stop ? 1 : 0), usage.OutputTokens);
        if (final.FinishReason == FinishReason.Length)
        {
            Assert.Equal(options.MaxOutputTokens, usage.OutputTokens);
        }
    }

    [Fact]
    public async Task Sampling_varies_the_answer_and_greedy_decoding_ends_on_its_own()
    {
        var chat = _host.GetGenerator(new DeploymentSettings { DeploymentId = "demo-chat-2", ModelId = ".demo-chat" });
        var answers = new HashSet<string>(StringComparer.Ordinal);
        for (var seed = 1; seed <= 4; seed++)
        {
            answers.Add((await chat.GetResponseAsync(WhaleQuestion, new GenerationOptions { Temperature = 0.9f, Seed = seed, MaxOutputTokens = 60 })).Text);
        }

        Assert.Equal(4, answers.Count);

        // A request that names no temperature samples at the model's generation_config.json default (0.8), as vLLM does,
        // instead of repeating the greedy answer.
        var defaults = new HashSet<string>(StringComparer.Ordinal);
        for (var seed = 1; seed <= 3; seed++)
        {
            defaults.Add((await chat.GetResponseAsync(WhaleQuestion, new GenerationOptions { Seed = seed, MaxOutputTokens = 40 })).Text);
        }

        Assert.Equal(3, defaults.Count);

        var greedy = new GenerationOptions { Temperature = 0, MaxOutputTokens = 200 };
        var first = await chat.GetResponseAsync(WhaleQuestion, greedy);
        var second = await chat.GetResponseAsync(WhaleQuestion, greedy);
        Assert.Equal(FinishReason.Stop, first.FinishReason);
        Assert.True(first.Usage.OutputTokens < 200, first.Text);
        Assert.Equal(first, second);
    }

    [Fact]
    public void A_cached_step_gives_the_logits_of_a_full_recompute_and_the_cache_carries_the_conversation()
    {
        var config = DecoderModelConfig.FromFolder(Folder);
        var path = Path.Combine(Folder, "onnx", "model.onnx");
        using var cached = DecoderSession.Open(path, config);
        using var recomputing = DecoderSession.Open(path, config, useKvCache: false);
        Assert.True(cached.UsesKvCache);
        Assert.False(recomputing.UsesKvCache);

        var tokenizer = TokenizerLoader.FromFolder(Folder);
        var template = ChatTemplate.FromFolder(Folder);
        var prompt = DecoderTextGenerator.EncodeChat(template, tokenizer, WhaleQuestion);
        // The prompt in two chunks: the second reads the first from the cache (the message flag crosses the cut).
        cached.Forward(prompt[..7]);
        var withCache = cached.Forward(prompt[7..]).ToArray();
        AssertClose(withCache, recomputing.Forward(prompt));

        // A sampled continuation, one token per cached step against the whole sequence recomputed.
        var sampler = new TokenSampler(0.9f, null, 3);
        for (var step = 0; step < 40; step++)
        {
            var next = sampler.Next(withCache);
            withCache = cached.Forward([next]).ToArray();
            AssertClose(withCache, recomputing.Forward([next]));
        }

        // Every prompt ends in the same tokens (<|end|> <|assistant|>): only what the cache holds tells them apart.
        using var other = DecoderSession.Open(path, config);
        var afterWhale = other.Forward(prompt).ToArray();
        other.Reset();
        var afterSupper = other.Forward(DecoderTextGenerator.EncodeChat(template, tokenizer, [new(ChatRole.User, "What did the sailors eat for supper?")])).ToArray();
        Assert.True(MaxDifference(afterWhale, afterSupper) > 0.5f);
    }

    [Fact]
    public void The_message_pulls_the_answer_towards_related_words()
    {
        var config = DecoderModelConfig.FromFolder(Folder);
        using var session = DecoderSession.Open(Path.Combine(Folder, "onnx", "model.onnx"), config);
        var tokenizer = TokenizerLoader.FromFolder(Folder);
        var template = ChatTemplate.FromFolder(Folder);
        var the = tokenizer.TokenToId("The")!.Value;
        var religion = new[] { "heaven", "Lord", "sin", "earth", "Jonah" }.Select(w => tokenizer.TokenToId(w)!.Value).ToArray();
        var seafaring = new[] { "deck", "mast", "boat", "sail", "mast-head" }.Select(w => tokenizer.TokenToId(w)!.Value).ToArray();

        // How much likelier (in logits, on average) the religious words are than the seafaring ones as the word after
        // "The" at the start of the answer.
        float Lean(string message)
        {
            session.Reset();
            session.Forward(DecoderTextGenerator.EncodeChat(template, tokenizer, [new(ChatRole.User, message)]));
            var logits = session.Forward([the]).ToArray();
            return religion.Average(id => logits[id]) - seafaring.Average(id => logits[id]);
        }

        var soul = Lean("Tell me about God, prayer and the soul.");
        var ship = Lean("Tell me about the ship, her masts and her crew.");
        Assert.True(soul > ship + 0.75f, $"{soul} against {ship}");
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual) =>
        Assert.True(MaxDifference(expected, actual) < 1e-3f, $"max difference {MaxDifference(expected, actual)}");

    private static float MaxDifference(float[] a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        var max = 0f;
        for (var i = 0; i < a.Length; i++)
        {
            // Tokens the model never writes sit near -1e4 or below; their exact value does not matter.
            if (a[i] > -1000 || b[i] > -1000)
            {
                max = Math.Max(max, Math.Abs(a[i] - b[i]));
            }
        }

        return max;
    }
}
