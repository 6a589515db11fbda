using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using WebConsole.Inference.Tokenization;
using WebConsole.Tests.Shared.Corpus;
using WebConsole.Tests.Shared.Node;
using Xunit.Abstractions;

namespace WebConsole.Unit.Inference.Tokenization;

/// <summary>
/// Id-for-id parity with @huggingface/tokenizers (run by node on the same tokenizer.json) over the whole corpus, for every
/// vocabulary the environment offers and a generated Unigram file. Also reports this implementation's encode speed.
/// </summary>
public sealed class TokenizerParityTests(ITestOutputHelper output)
{
    private static readonly EncodeOptions NoTruncation = new() { MaxLength = 1_000_000 };

    [Fact]
    public async Task Bert_wordpiece_matches_the_reference_on_every_corpus_line_with_consistent_offsets()
    {
        var folder = await TokenizerVocabularies.BertAsync();
        var (tokenizer, lines, _) = await AssertParityAsync("bert-base-uncased", folder);

        // The reference has no offsets: every token must cover exactly the original text it came from.
        var checkedTokens = 0;
        foreach (var line in lines)
        {
            var encoding = tokenizer.Encode(line, options: NoTruncation);
            var previousEnd = 0;
            for (var i = 0; i < encoding.Length; i++)
            {
                var (start, end) = encoding.Offsets[i];
                if (encoding.Ids[i] == tokenizer.Special.Unk)
                {
                    continue;
                }

                if (tokenizer.Special.All.Contains(encoding.Ids[i]))
                {
                    // Added by the post-processor: (0,0); typed in the text: the text it matched.
                    Assert.True((start, end) == (0, 0) || line[start..end] == encoding.Tokens[i], $"special token offsets ({start},{end}) in {Show(line)}");
                    continue;
                }

                Assert.True(start >= previousEnd - 1 && end > start && end <= line.Length, $"offsets ({start},{end}) of '{encoding.Tokens[i]}' in {Show(line)}");
                previousEnd = end;
                var piece = encoding.Tokens[i].StartsWith("##", StringComparison.Ordinal) ? encoding.Tokens[i][2..] : encoding.Tokens[i];
                // Pieces of one decomposed character (Hangul jamo) share its offsets; the rest cover exactly their text.
                var shared = (i > 0 && encoding.Offsets[i - 1] == (start, end)) || (i + 1 < encoding.Length && encoding.Offsets[i + 1] == (start, end));
                if (shared)
                {
                    Assert.Contains(Fold(piece), Fold(line[start..end]), StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(Fold(piece), Fold(line[start..end]));
                }

                checkedTokens++;
            }
        }

        Assert.True(checkedTokens > 10_000, $"only {checkedTokens} tokens had their offsets checked");
    }

    [Fact]
    public async Task Gpt2_byte_level_bpe_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("gpt2", await TokenizerVocabularies.Gpt2Async());

    [Fact]
    public async Task Qwen3_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("qwen3", await TokenizerVocabularies.LenmlAsync("qwen3"));

    [Fact]
    public async Task Llama2_sentencepiece_bpe_with_byte_fallback_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("llama2", await TokenizerVocabularies.LenmlAsync("llama2"));

    [Fact]
    public async Task Llama3_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("llama3", await TokenizerVocabularies.LenmlAsync("llama3"));

    [Fact]
    public async Task Gemma3_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("gemma3", await TokenizerVocabularies.LenmlAsync("gemma3"));

    [Fact]
    public async Task Gpt4o_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("gpt4o", await TokenizerVocabularies.LenmlAsync("gpt4o"));

    [Fact]
    public async Task Generated_unigram_matches_the_reference_on_every_corpus_line() =>
        await AssertParityAsync("unigram", await TokenizerVocabularies.UnigramAsync());

    [Fact]
    public async Task Bert_pairs_and_truncation_match_the_reference()
    {
        var folder = await TokenizerVocabularies.BertAsync();
        var tokenizer = TokenizerLoader.FromFolder(folder);
        var lines = TokenizerCorpus.Lines().Take(120).ToArray();
        var pairs = Enumerable.Range(0, 100).Select(i => new[] { lines[i], lines[(i * 7 + 3) % lines.Length] }).ToArray();
        using var reference = await RunReferenceAsync(folder, new { plain = lines, pairs });
        var plain = reference.RootElement.GetProperty("plain").EnumerateArray().Select(Ids).ToArray();
        var referencePairs = reference.RootElement.GetProperty("pairs").EnumerateArray().ToArray();
        var (cls, sep) = (tokenizer.Special.Cls!.Value, tokenizer.Special.Sep!.Value);

        for (var i = 0; i < pairs.Length; i++)
        {
            var (a, b) = (pairs[i][0], pairs[i][1]);
            var ours = tokenizer.Encode(a, b, NoTruncation);
            Assert.Equal(Ids(referencePairs[i].GetProperty("ids")), ours.Ids);
            Assert.Equal(Ids(referencePairs[i].GetProperty("type_ids")), ours.TypeIds);
            Assert.False(ours.IsTruncated);

            // Truncation (the reference has none): the reference's own token lists, cut by longest-first.
            var (idsA, idsB) = (plain[i], plain[(i * 7 + 3) % lines.Length]);
            foreach (var max in new[] { 9, 16, 33 })
            {
                var truncated = tokenizer.Encode(a, b, new EncodeOptions { MaxLength = max });
                var (n1, n2) = LongestFirst(idsA.Length, idsB.Length, max - 3);
                int[] expected = [cls, .. idsA.Take(n1), sep, .. idsB.Take(n2), sep];
                Assert.Equal(expected, truncated.Ids);
                Assert.Equal(idsA.Length + idsB.Length + 3 > max, truncated.IsTruncated);
                Assert.Equal(truncated.Length, truncated.TypeIds.Length);
                Assert.Equal(n1 + 2, truncated.TypeIds.Count(t => t == 0));
            }

            var right = tokenizer.Encode(a, options: new EncodeOptions { MaxLength = 8 });
            Assert.Equal([cls, .. idsA.Take(6), sep], right.Ids);
            Assert.Equal(idsA.Length > 6, right.IsTruncated);
            var left = tokenizer.Encode(a, options: new EncodeOptions { MaxLength = 8, Side = TruncationSide.Left });
            Assert.Equal([cls, .. idsA.Skip(Math.Max(0, idsA.Length - 6)), sep], left.Ids);
        }

        // Without a MaxLength the model's maximum (512 from tokenizer_config.json) applies.
        var longText = string.Join(' ', Enumerable.Repeat("tokenizer", 600));
        var capped = tokenizer.Encode(longText);
        Assert.Equal(512, capped.Length);
        Assert.True(capped.IsTruncated);
        Assert.Equal(512, tokenizer.ModelMaxLength);
    }

    private static (int, int) LongestFirst(int n1, int n2, int budget)
    {
        if (n1 + n2 <= budget)
        {
            return (n1, n2);
        }

        var swap = n1 > n2;
        if (swap)
        {
            (n1, n2) = (n2, n1);
        }

        n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
        if (n1 + n2 > budget)
        {
            n1 = budget / 2;
            n2 = n1 + (budget % 2);
        }

        return swap ? (n2, n1) : (n1, n2);
    }

    private async Task<(ITokenizer Tokenizer, IReadOnlyList<string> Lines, JsonDocument Reference)> AssertParityAsync(string name, string folder)
    {
        var lines = TokenizerCorpus.Lines();
        Assert.True(lines.Count >= 1000);
        var loading = Stopwatch.StartNew();
        var tokenizer = TokenizerLoader.FromFolder(folder);
        var loadMs = loading.ElapsedMilliseconds;
        var reference = await RunReferenceAsync(folder, new { lines, decode = Array.Empty<int[]>() });
        var expected = reference.RootElement.GetProperty("lines").EnumerateArray().ToArray();
        Assert.Equal(lines.Count, expected.Length);

        var mismatches = 0;
        string? first = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var ours = tokenizer.Encode(lines[i], options: NoTruncation);
            var theirs = Ids(expected[i].GetProperty("ids"));
            if (!ours.Ids.AsSpan().SequenceEqual(theirs))
            {
                mismatches++;
                first ??= $"line {i}: {Show(lines[i])}\n  ours:      [{string.Join(',', ours.Ids)}]\n  reference: [{string.Join(',', theirs)}]\n"
                    + $"  our tokens:       {Show(string.Join(" | ", ours.Tokens))}\n"
                    + $"  reference tokens: {Show(string.Join(" | ", expected[i].GetProperty("tokens").EnumerateArray().Select(t => t.GetString())))}";
            }
        }

        Assert.True(mismatches == 0, $"{name}: {mismatches} of {lines.Count} lines differ from @huggingface/tokenizers; first:\n{first}");

        // Decoding: the reference's text for its own ids, on a sample.
        var sample = expected.Take(300).Select(e => Ids(e.GetProperty("ids"))).Where(ids => ids.Length > 0).ToArray();
        using var decoded = await RunReferenceAsync(folder, new { decode = sample });
        var texts = decoded.RootElement.GetProperty("decoded").EnumerateArray().Select(t => t.GetString()).ToArray();
        for (var i = 0; i < sample.Length; i++)
        {
            Assert.True(texts[i] == tokenizer.Decode(sample[i]), $"{name} decode of [{string.Join(',', sample[i])}]:\n  ours:      {Show(tokenizer.Decode(sample[i]))}\n  reference: {Show(texts[i]!)}");
        }

        // Speed: three passes over the corpus after the warm-up above (word caches filled as in steady serving).
        var bytes = lines.Sum(l => Encoding.UTF8.GetByteCount(l));
        var clock = Stopwatch.StartNew();
        for (var pass = 0; pass < 3; pass++)
        {
            foreach (var line in lines)
            {
                tokenizer.Encode(line, options: NoTruncation);
            }
        }

        var seconds = clock.Elapsed.TotalSeconds / 3;
        var referenceMs = reference.RootElement.GetProperty("encodeMs").GetDouble();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {lines.Count} lines identical; load {loadMs} ms; encode {lines.Count / seconds:F0} lines/s, {bytes / seconds / 1e6:F2} MB/s (one thread); reference {lines.Count / (referenceMs / 1000):F0} lines/s"));
        return (tokenizer, lines, reference);
    }

    private static async Task<JsonDocument> RunReferenceAsync(string folder, object request)
    {
        var config = Path.Combine(folder, "tokenizer_config.json");
        var json = await NodeTools.RunAsync("tokenizer-parity.mjs",
            [Path.Combine(folder, "tokenizer.json"), File.Exists(config) ? config : "-"], JsonSerializer.Serialize(request));
        return JsonDocument.Parse(json);
    }

    private static int[] Ids(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    private static string Fold(string text)
    {
        var decomposed = text.Replace('İ', 'i').ToLowerInvariant().Replace('ς', 'σ').Normalize(NormalizationForm.FormD);
        // BERT's normalizer drops marks after decomposition and control/format characters (e.g. zero-width space).
        return new string([.. decomposed.Where(c => CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.Format or UnicodeCategory.Control))]);
    }

    private static string Show(string text) => JsonSerializer.Serialize(text);
}
