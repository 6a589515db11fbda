namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// The demo chat model's words: six special tokens, then the corpus's most frequent tokens (ties in ordinal order, so
/// the ids never depend on hash order). Everything else reads as [UNK].
/// </summary>
internal sealed class DemoChatVocabulary
{
    public const int Pad = 0, Unknown = 1, End = 2, System = 3, User = 4, Assistant = 5;

    /// <summary>The special tokens, by id.</summary>
    public static readonly IReadOnlyList<string> Specials = ["[PAD]", "[UNK]", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"];

    private readonly Dictionary<string, int> _ids;

    private DemoChatVocabulary(string[] tokens)
    {
        Tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            _ids[tokens[i]] = i;
        }
    }

    /// <summary>Every token, by id.</summary>
    public IReadOnlyList<string> Tokens { get; }

    public int Count => Tokens.Count;

    /// <summary>The <paramref name="size"/> - 6 most frequent tokens of <paramref name="paragraphs"/> after the specials.</summary>
    public static DemoChatVocabulary FromCorpus(IReadOnlyList<string[]> paragraphs, int size)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var paragraph in paragraphs)
        {
            foreach (var token in paragraph)
            {
                counts[token] = counts.GetValueOrDefault(token) + 1;
            }
        }

        var words = counts
            .OrderByDescending(c => c.Value)
            .ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(size - Specials.Count)
            .Select(c => c.Key);
        return new DemoChatVocabulary([.. Specials, .. words]);
    }

    public int Id(string token) => _ids.TryGetValue(token, out var id) ? id : Unknown;

    /// <summary>Whether <paramref name="id"/> is one of the six special tokens.</summary>
    public static bool IsSpecial(int id) => id < Specials.Count;

    /// <summary>Whether <paramref name="id"/> is a function word ("the", "of", "thou"): no topic of its own.</summary>
    public bool IsFunctionWord(int id) => !IsSpecial(id) && DemoChatText.IsFunctionWord(Tokens[id]);

    /// <summary>Whether <paramref name="id"/> is a word or number (not punctuation, not special).</summary>
    public bool IsWord(int id) => !IsSpecial(id) && DemoChatText.IsWord(Tokens[id]);
}
