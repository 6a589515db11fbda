using System.Text.Json.Nodes;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Unit.Inference.Tokenization;

/// <summary>
/// Unigram byte fallback (Hugging Face's Rust behaviour; the JavaScript reference has none, so this is checked directly):
/// unknown characters become their UTF-8 byte tokens, and decoding puts the characters back.
/// </summary>
public sealed class UnigramByteFallbackTests
{
    [Fact]
    public void Unknown_characters_become_byte_tokens_and_decode_back()
    {
        var vocab = new JsonArray(new JsonArray("<unk>", 0.0), new JsonArray("\u2581", -2.0), new JsonArray("a", -3.0),
            new JsonArray("b", -3.0), new JsonArray("\u2581a", -1.5), new JsonArray("\u2581ab", -1.0));
        for (var b = 0; b < 256; b++)
        {
            vocab.Add(new JsonArray($"<0x{b:X2}>", -10.0));
        }

        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "always" },
            ["post_processor"] = null,
            ["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"""),
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["vocab"] = vocab, ["byte_fallback"] = true },
        };
        var tokenizer = TokenizerLoader.FromJson(json.ToJsonString(), """{"clean_up_tokenization_spaces":false}""");

        var encoding = tokenizer.Encode("ab a😀é");
        Assert.Equal(["\u2581ab", "\u2581a", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>", "<0xC3>", "<0xA9>"], encoding.Tokens);
        Assert.Equal((4, 7), encoding.Offsets[2]);
        Assert.Equal("ab a😀é", tokenizer.Decode(encoding.Ids));

        var withoutFallback = TokenizerLoader.FromJson(json.ToJsonString().Replace("\"byte_fallback\":true", "\"byte_fallback\":false", StringComparison.Ordinal));
        Assert.Equal([5, 4, 0], withoutFallback.Encode("ab a😀é").Ids);
    }
}
