using System.Text;
using WebConsole.Inference.Tokenization;
using WebConsole.Tests.Shared.Corpus;

namespace WebConsole.Unit.Inference.Tokenization;

/// <summary>The older file forms, special tokens and decoding behaviour of loaded tokenizers.</summary>
public sealed class TokenizerLoaderTests
{
    [Fact]
    public async Task A_folder_with_only_vocab_txt_tokenizes_like_its_tokenizer_json()
    {
        var source = await TokenizerVocabularies.BertAsync();
        var folder = CopyTo(source, "vocab.txt", "tokenizer_config.json");
        try
        {
            var legacy = TokenizerLoader.FromFolder(folder);
            var modern = TokenizerLoader.FromFolder(source);
            foreach (var line in TokenizerCorpus.Lines().Take(300))
            {
                Assert.Equal(modern.Encode(line).Ids, legacy.Encode(line).Ids);
            }

            Assert.Equal(30522, legacy.VocabularySize);
            Assert.Equal(101, legacy.Special.Cls);
            Assert.Equal(102, legacy.Special.Sep);
            Assert.Equal(0, legacy.Special.Pad);
            Assert.Equal(100, legacy.Special.Unk);
            Assert.Equal(103, legacy.Special.Mask);
            Assert.Equal(["[CLS]", "hello", ",", "world", "!", "[SEP]"], legacy.Encode("Hello, WORLD!").Tokens);
            Assert.Equal("hello, world!", legacy.Decode(legacy.Encode("Hello, WORLD!").Ids));
            Assert.Equal("[CLS] hello, world! [SEP]", legacy.Decode(legacy.Encode("Hello, WORLD!").Ids, skipSpecialTokens: false));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_folder_with_vocab_json_and_merges_txt_tokenizes_like_gpt2()
    {
        var source = await TokenizerVocabularies.Gpt2Async();
        var folder = CopyTo(source, "vocab.json", "merges.txt");
        try
        {
            var legacy = TokenizerLoader.FromFolder(folder);
            var modern = TokenizerLoader.FromFolder(source);
            foreach (var line in TokenizerCorpus.Lines().Take(300))
            {
                var ids = legacy.Encode(line).Ids;
                Assert.Equal(modern.Encode(line).Ids, ids);
                Assert.Equal(modern.Decode(ids), legacy.Decode(ids));
            }

            Assert.Equal([15496, 995], legacy.Encode("Hello world").Ids);
            Assert.Equal("Hello world  \t\u00e9", legacy.Decode(legacy.Encode("Hello world  \t\u00e9").Ids));
            Assert.Equal(50257, legacy.VocabularySize);
            Assert.Equal(50256, legacy.TokenToId("<|endoftext|>"));
            Assert.Equal("Ġworld", legacy.IdToToken(995));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Byte_level_offsets_point_at_the_original_characters()
    {
        var tokenizer = TokenizerLoader.FromFolder(await TokenizerVocabularies.LenmlAsync("qwen3"));
        const string text = "Café 👍🏽 naïve";
        var encoding = tokenizer.Encode(text);
        var previous = 0;
        foreach (var (token, (start, end)) in encoding.Tokens.Zip(encoding.Offsets))
        {
            // A byte-level token may hold part of a character; its bytes lie inside the characters its offsets cover.
            var bytes = token.Select(c => ByteLevelPreTokenizer.CharToByte[c]).ToArray();
            var covered = Encoding.UTF8.GetBytes(text[start..end]);
            Assert.True(covered.AsSpan().IndexOf(bytes) >= 0, $"'{token}' at ({start},{end})");
            Assert.True(start >= previous - 2 && end > start);
            previous = end;
        }

        Assert.Equal(text.Length, encoding.Offsets[^1].End);
        Assert.Equal(131072, tokenizer.ModelMaxLength);
        Assert.Equal(tokenizer.TokenToId("<|im_end|>"), tokenizer.Special.Eos);
        Assert.Contains(tokenizer.TokenToId("<|im_start|>")!.Value, tokenizer.Special.All);
    }

    [Fact]
    public async Task Special_tokens_in_the_text_are_matched_and_skipped_when_decoding()
    {
        var tokenizer = TokenizerLoader.FromFolder(await TokenizerVocabularies.LenmlAsync("llama3"));
        var encoding = tokenizer.Encode("<|start_header_id|>user<|end_header_id|>Hi");
        // This tokenizer.json's post-processor is ByteLevel only (no BOS template), as the reference agrees.
        Assert.Equal(128006, encoding.Ids[0]);
        Assert.Equal((0, 19), encoding.Offsets[0]);
        Assert.Equal("userHi", tokenizer.Decode(encoding.Ids));
        Assert.StartsWith("<|start_header_id|>user", tokenizer.Decode(encoding.Ids, skipSpecialTokens: false), StringComparison.Ordinal);
        Assert.Null(tokenizer.ModelMaxLength);
        var batch = tokenizer.EncodeBatch(TokenizerCorpus.Lines().Take(20).ToArray());
        Assert.Equal(tokenizer.Encode(TokenizerCorpus.Lines()[7]).Ids, batch[7].Ids);
    }

    private static string CopyTo(string source, params string[] files)
    {
        var folder = Path.Combine(Path.GetTempPath(), "webconsole-tokenizer-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            File.Copy(Path.Combine(source, file), Path.Combine(folder, file));
        }

        return folder;
    }
}
