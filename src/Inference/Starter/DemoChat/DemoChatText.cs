using System.Text;
using System.Text.RegularExpressions;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// How the demo chat model reads text, shared by the corpus reader and the tokenizer.json it writes, so the words the
/// model was counted on are the words the tokenizer produces: NFKC, typographic apostrophes made plain, then words
/// (letters with inner apostrophes or hyphens), numbers and a few punctuation marks. Everything else (quotes, brackets,
/// dashes between spaces) is dropped, which keeps the word-level decoder's spacing right.
/// </summary>
internal static partial class DemoChatText
{
    /// <summary>The pre-tokenizer's pattern (tokenizer.json <c>Split</c>, inverted: only the matches are kept).</summary>
    public const string WordPattern = @"\p{L}+(?:['\-]\p{L}+)*|\p{N}+|[.,;:!?—]";

    /// <summary>Tokens after which a sentence ends (unless the word before is a title such as "Mr").</summary>
    private static readonly HashSet<string> SentenceEnds = new(StringComparer.Ordinal) { ".", "!", "?" };

    /// <summary>
    /// English function words (and the book's archaic ones): they carry no topic, so the topic head ignores them and the
    /// repetition penalty treats them lightly. Compared without case.
    /// </summary>
    private static readonly HashSet<string> FunctionWords = new(
        """
        a an the and or but nor so yet for of to in on at by with from into onto upon over under about above below after
        before between through during without within against among around off out up down as than then that this these those
        there here where when while what which who whom whose why how if though although because since until unless whether
        not no yes all any some each every both either neither such own same other another more most much many few less least
        very too also only just even still again ever never now once i me my mine myself we us our ours ourselves you your
        yours yourself ye thee thou thy thine he him his himself she her hers herself it its itself they them their theirs
        themselves one be is am are was were been being have has had having do does did doing done will would shall should
        can could may might must let unto whilst hath doth thus
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries),
        StringComparer.OrdinalIgnoreCase);

    private static readonly HashSet<string> Titles = new(StringComparer.Ordinal) { "Mr", "Mrs", "Dr", "St", "Messrs" };

    /// <summary>The normalizer of tokenizer.json, in code.</summary>
    public static string Normalize(string text) =>
        text.Normalize(NormalizationForm.FormKC).Replace('\u2019', '\'').Replace('\u2018', '\'');

    /// <summary>The tokens of <paramref name="text"/> as the tokenizer splits them.</summary>
    public static List<string> Words(string text)
    {
        var normalized = Normalize(text);
        return [.. Word().Matches(normalized).Select(m => m.Value)];
    }

    /// <summary>
    /// The book's paragraphs (blank-line separated, wrapped lines joined) as token lists; chapter headings are left out,
    /// they are titles rather than prose.
    /// </summary>
    public static List<string[]> Paragraphs(string book)
    {
        List<string[]> paragraphs = [];
        var normalized = Normalize(book.Replace("\r\n", "\n", StringComparison.Ordinal));
        foreach (var block in BlankLines().Split(normalized))
        {
            var paragraph = block.Trim();
            if (paragraph.Length == 0 || ChapterHeading().IsMatch(paragraph))
            {
                continue;
            }

            var words = Word().Matches(paragraph).Select(m => m.Value).ToArray();
            if (words.Length > 0)
            {
                paragraphs.Add(words);
            }
        }

        return paragraphs;
    }

    /// <summary>The sentences of a paragraph: each ends after . ! or ? (not after a title's full stop) or at the paragraph's end.</summary>
    public static List<ArraySegment<string>> Sentences(string[] paragraph)
    {
        List<ArraySegment<string>> sentences = [];
        var start = 0;
        for (var i = 0; i < paragraph.Length; i++)
        {
            var end = SentenceEnds.Contains(paragraph[i]) && !(i > 0 && paragraph[i] == "." && Titles.Contains(paragraph[i - 1]));
            if (end || i == paragraph.Length - 1)
            {
                sentences.Add(new ArraySegment<string>(paragraph, start, i + 1 - start));
                start = i + 1;
            }
        }

        return sentences;
    }

    /// <summary>Whether <paramref name="token"/> is a function word (see <see cref="FunctionWords"/>).</summary>
    public static bool IsFunctionWord(string token) => FunctionWords.Contains(token);

    /// <summary>Whether a token is a word or number rather than punctuation.</summary>
    public static bool IsWord(string token) => token.Length > 0 && char.IsLetterOrDigit(token[0]);

    [GeneratedRegex(WordPattern, RegexOptions.CultureInvariant)]
    private static partial Regex Word();

    [GeneratedRegex(@"\n[ \t]*\n\s*")]
    private static partial Regex BlankLines();

    [GeneratedRegex(@"^CHAPTER \d+\.", RegexOptions.CultureInvariant)]
    private static partial Regex ChapterHeading();
}
