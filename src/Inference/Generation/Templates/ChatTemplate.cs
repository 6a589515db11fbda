using System.Text;
using System.Text.Json;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Generation.Templates;

/// <summary>
/// A model's own chat template (tokenizer_config.json's <c>chat_template</c>, or <c>chat_template.jinja</c>) rendered by a
/// Jinja subset that covers the ChatML family (Qwen), Llama 3 and similar templates: statements if/for/set/macro,
/// namespaces, loop variables, slicing, filters and tests transformers offers, with trim_blocks and lstrip_blocks.
/// Thread-safe: rendering keeps no state.
/// </summary>
public sealed class ChatTemplate
{
    private readonly List<Node> _nodes;
    private readonly Dictionary<string, object?> _specialTokens;
    private readonly TimeProvider _timeProvider;

    private ChatTemplate(string source, Dictionary<string, object?> specialTokens, TimeProvider timeProvider)
    {
        Source = source;
        _nodes = JinjaParser.Parse(source);
        _specialTokens = specialTokens;
        _timeProvider = timeProvider;
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; <paramref name="specialTokens"/> are bos_token, eos_token... as the template sees them.</summary>
    public static ChatTemplate Parse(string source, IReadOnlyDictionary<string, string>? specialTokens = null, TimeProvider? timeProvider = null) =>
        new(source, specialTokens?.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal) ?? [], timeProvider ?? TimeProvider.System);

    /// <summary>The template of a model folder, or null when it has none.</summary>
    public static ChatTemplate? FromFolder(string modelFolder, TimeProvider? timeProvider = null)
    {
        var configPath = Path.Combine(modelFolder, "tokenizer_config.json");
        string? source = null;
        Dictionary<string, string> special = new(StringComparer.Ordinal);
        if (File.Exists(configPath))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = document.RootElement;
            if (root.TryGetProperty("chat_template", out var template))
            {
                source = template.ValueKind switch
                {
                    JsonValueKind.String => template.GetString(),
                    // A list of named templates: the one called "default" is the chat template.
                    JsonValueKind.Array => template.EnumerateArray()
                        .FirstOrDefault(t => t.TryGetProperty("name", out var n) && n.GetString() == "default")
                        is { ValueKind: JsonValueKind.Object } named ? named.GetProperty("template").GetString() : null,
                    _ => null,
                };
            }

            foreach (var key in new[] { "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token" })
            {
                if (root.TryGetProperty(key, out var token))
                {
                    var text = token.ValueKind == JsonValueKind.String ? token.GetString()
                        : token.ValueKind == JsonValueKind.Object && token.TryGetProperty("content", out var content) ? content.GetString() : null;
                    if (text is not null)
                    {
                        special[key] = text;
                    }
                }
            }
        }

        var jinjaPath = Path.Combine(modelFolder, "chat_template.jinja");
        if (source is null && File.Exists(jinjaPath))
        {
            source = File.ReadAllText(jinjaPath);
        }

        return source is null ? null : Parse(source, special, timeProvider);
    }

    /// <summary>Renders <paramref name="messages"/>, ending with the assistant's turn header when <paramref name="addGenerationPrompt"/>.</summary>
    /// <exception cref="InferenceInputException">The template rejected the conversation (its raise_exception).</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var scope = new Scope(null);
        JinjaBuiltins.AddGlobals(scope, _timeProvider);
        foreach (var (key, value) in _specialTokens)
        {
            scope.Set(key, value);
        }

        scope.Set("messages", messages.Select(m => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = m.Role switch
            {
                ChatRole.System => "system",
                ChatRole.Assistant => "assistant",
                ChatRole.Tool => "tool",
                _ => "user",
            },
            ["content"] = m.Text,
        }).ToList());
        scope.Set("add_generation_prompt", addGenerationPrompt);
        scope.Set("tools", null);
        scope.Set("documents", null);
        foreach (var (key, value) in variables ?? new Dictionary<string, object?>())
        {
            scope.Set(key, value);
        }

        var output = new StringBuilder();
        var inner = new Scope(scope);
        Node.RenderAll(_nodes, inner, output);
        return output.ToString();
    }
}
