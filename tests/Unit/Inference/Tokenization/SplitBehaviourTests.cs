using System.Text.Json;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Unit.Inference.Tokenization;

/// <summary>The Split pre-tokenizer's behaviours (Hugging Face's documented examples, on the pattern "-").</summary>
public sealed class SplitBehaviourTests
{
    [Theory]
    [InlineData("Isolated", false, "the|-|final|-|-|countdown")]
    [InlineData("Removed", false, "the|final|countdown")]
    [InlineData("MergedWithPrevious", false, "the-|final-|-|countdown")]
    [InlineData("MergedWithNext", false, "the|-final|-|-countdown")]
    [InlineData("Contiguous", false, "the|-|final|--|countdown")]
    [InlineData("Removed", true, "-|-|-")]
    public void Split_behaviours_cut_the_text_like_hugging_face(string behavior, bool invert, string expected)
    {
        using var config = JsonDocument.Parse(
            $$"""{"type":"Split","pattern":{"Regex":"-"},"behavior":"{{behavior}}","invert":{{(invert ? "true" : "false")}}}""");
        var splitter = PreTokenizer.Create(config.RootElement)!;
        const string text = "the-final--countdown";
        var pieces = splitter.PreTokenize([AlignedText.FromOriginal(text, 0, text.Length)], 0);
        Assert.Equal(expected, string.Join('|', pieces.Select(p => p.Text)));
        Assert.All(pieces, p => Assert.Equal(p.Text, text[p.Starts[0]..p.Ends[^1]]));
    }
}
