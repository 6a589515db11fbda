using System.Text.Json;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;
using WebConsole.TestModels.Decoder;
using WebConsole.Tests.Shared.Node;

namespace WebConsole.Unit.Inference.Generation;

/// <summary>The generated decoders, opened once for all generation tests, and transformers.js's greedy answers on them.</summary>
public sealed class DecoderFixture : IAsyncLifetime
{
    public static readonly IReadOnlyList<IReadOnlyList<ChatMessage>> Conversations =
    [
        [new(ChatRole.User, "Hello!")],
        [new(ChatRole.System, "You are terse."), new(ChatRole.User, "Name three colours, please. 🌈")],
        [new(ChatRole.User, "Wie spät ist es?"), new(ChatRole.Assistant, "Keine Ahnung."), new(ChatRole.User, "  Und jetzt?\n")],
    ];

    public const int MaxNewTokens = 12;

    public string Qwen3Folder { get; private set; } = string.Empty;

    public string Llama3Folder { get; private set; } = string.Empty;

    public DecoderTextGenerator Qwen3 { get; private set; } = null!;

    public DecoderTextGenerator Qwen3Recomputing { get; private set; } = null!;

    public DecoderTextGenerator Qwen3WithoutPast { get; private set; } = null!;

    public DecoderTextGenerator Llama3 { get; private set; } = null!;

    public DecoderTextGenerator Llama3Recomputing { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Qwen3Folder = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3);
        Llama3Folder = await DecoderTestModels.GetAsync(DecoderVariant.Llama3);
        var withoutPast = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3WithoutPast);
        Qwen3 = DecoderTextGenerator.Open(Qwen3Folder);
        Qwen3Recomputing = DecoderTextGenerator.Open(Qwen3Folder, useKvCache: false);
        Qwen3WithoutPast = DecoderTextGenerator.Open(withoutPast);
        Llama3 = DecoderTextGenerator.Open(Llama3Folder);
        Llama3Recomputing = DecoderTextGenerator.Open(Llama3Folder, useKvCache: false);
    }

    public Task DisposeAsync()
    {
        foreach (var generator in new[] { Qwen3, Qwen3Recomputing, Qwen3WithoutPast, Llama3, Llama3Recomputing })
        {
            generator?.Dispose();
        }

        return Task.CompletedTask;
    }

    /// <summary>transformers.js's greedy generation of <see cref="Conversations"/> (and one plain prompt) on <paramref name="folder"/>.</summary>
    public static async Task<List<ReferenceResult>> ReferenceAsync(string folder)
    {
        var cases = Conversations
            .Select(c => (object)new
            {
                messages = c.Select(m => new { role = m.Role.ToString().ToLowerInvariant(), content = m.Text }),
                max_new_tokens = MaxNewTokens,
            })
            .Append(new { prompt = "Once upon a time", max_new_tokens = MaxNewTokens })
            .ToList();
        var output = await NodeTools.RunAsync("transformers-generate.mjs", [folder], JsonSerializer.Serialize(new { cases }));
        using var document = JsonDocument.Parse(output);
        return [.. document.RootElement.GetProperty("results").EnumerateArray().Select(r => new ReferenceResult(
            r.GetProperty("rendered").ValueKind == JsonValueKind.String ? r.GetProperty("rendered").GetString() : null,
            [.. r.GetProperty("prompt_ids").EnumerateArray().Select(i => i.GetInt32())],
            [.. r.GetProperty("output_ids").EnumerateArray().Select(i => i.GetInt32())]))];
    }

    /// <summary>Every generated id (EOS included) of a greedy run.</summary>
    public static async Task<List<int>> GreedyIdsAsync(DecoderTextGenerator generator, IReadOnlyList<int> prompt, int maxTokens)
    {
        List<int> ids = [];
        await foreach (var token in generator.GenerateTokensAsync(prompt, new GenerationOptions { MaxOutputTokens = maxTokens }, CancellationToken.None))
        {
            if (token.Id >= 0)
            {
                ids.Add(token.Id);
            }
        }

        return ids;
    }
}

public sealed record ReferenceResult(string? Rendered, int[] PromptIds, int[] OutputIds);

[CollectionDefinition(Name)]
public sealed class DecoderCollection : ICollectionFixture<DecoderFixture>
{
    public const string Name = "Generated decoders";
}
