using System.Text.Json;
using WebConsole.Domain;
using WebConsole.Domain.Chunking;

namespace WebConsole.Unit.Domain;

public sealed class ChunkingSettingsTests
{
    private static Dictionary<string, object?> Raw(params (string Key, object? Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);

    private static DomainValidationException Fails(Dictionary<string, object?> raw) =>
        Assert.Throws<DomainValidationException>(() => ChunkingSettings.FromDictionary(raw));

    [Fact]
    public void Absent_or_empty_settings_mean_sentence_250_overlap_1()
    {
        foreach (var settings in new[] { ChunkingSettings.FromDictionary(null), ChunkingSettings.FromDictionary(Raw()) })
        {
            Assert.Equal(ChunkingStrategy.Sentence, settings.Strategy);
            Assert.Equal(250, settings.MaxChunkSize);
            Assert.Equal(1, settings.SentenceOverlap);
            Assert.Equal(ChunkingSettings.Default, settings);
        }
    }

    [Fact]
    public void A_non_empty_object_without_strategy_cannot_build_a_chunker()
    {
        var error = Fails(Raw(("max_chunk_size", 100)));
        Assert.Equal("Can't generate Chunker without ChunkingStrategy provided", error.Message);
    }

    [Fact]
    public void An_unknown_strategy_is_rejected()
    {
        Assert.Equal("Invalid chunkingStrategy paragraph", Fails(Raw(("strategy", "paragraph"))).Message);
    }

    [Fact]
    public void Sentence_settings_parse_with_default_overlap()
    {
        var settings = ChunkingSettings.FromDictionary(Raw(("strategy", "sentence"), ("max_chunk_size", 20)));
        Assert.Equal(ChunkingStrategy.Sentence, settings.Strategy);
        Assert.Equal(20, settings.MaxChunkSize);
        Assert.Equal(1, settings.SentenceOverlap);
        Assert.Equal(0, ChunkingSettings.Sentence(300, 0).SentenceOverlap);
    }

    [Fact]
    public void Sentence_overlap_must_be_0_or_1()
    {
        var error = Fails(Raw(("strategy", "sentence"), ("max_chunk_size", 100), ("sentence_overlap", 2)));
        Assert.Equal(["sentence_overlap[2] must be either 0 or 1"], error.Errors);
        Assert.Equal("Validation Failed: 1: sentence_overlap[2] must be either 0 or 1;", error.Message);
    }

    [Theory]
    [InlineData("sentence", 19, "[chunking_settings] Invalid value [19.0]. [max_chunk_size] must be a greater than or equal to [20.0]")]
    [InlineData("sentence", 301, "[chunking_settings] Invalid value [301.0]. [max_chunk_size] must be a less than or equal to [300.0]")]
    [InlineData("recursive", 9, "[chunking_settings] Invalid value [9.0]. [max_chunk_size] must be a greater than or equal to [10.0]")]
    [InlineData("recursive", 301, "[chunking_settings] Invalid value [301.0]. [max_chunk_size] must be a less than or equal to [300.0]")]
    [InlineData("sentence", 0, "[chunking_settings] Invalid value [0]. [max_chunk_size] must be a positive integer")]
    [InlineData("recursive", -5, "[chunking_settings] Invalid value [-5]. [max_chunk_size] must be a positive integer")]
    public void Max_chunk_size_is_checked_against_the_strategy_range(string strategy, int size, string message)
    {
        Assert.Equal([message], Fails(Raw(("strategy", strategy), ("max_chunk_size", size))).Errors);
    }

    [Theory]
    [InlineData(9, "[chunking_settings] Invalid value [9.0]. [max_chunk_size] must be a greater than or equal to [10.0]")]
    [InlineData(301, "[chunking_settings] Invalid value [301.0]. [max_chunk_size] must be a less than or equal to [300.0]")]
    public void Word_max_chunk_size_is_10_to_300(int size, string message)
    {
        Assert.Equal([message], Fails(Raw(("strategy", "word"), ("max_chunk_size", size), ("overlap", 1))).Errors);
        Assert.Equal(10, ChunkingSettings.Word(10, 5).MaxChunkSize);
        Assert.Equal(300, ChunkingSettings.Word(300, 0).MaxChunkSize);
    }

    [Theory]
    [InlineData("sentence")]
    [InlineData("word")]
    [InlineData("recursive")]
    public void Max_chunk_size_is_required(string strategy)
    {
        var error = Fails(Raw(("strategy", strategy)));
        Assert.Equal("[chunking_settings] does not contain the required setting [max_chunk_size]", error.Errors[0]);
    }

    [Fact]
    public void Word_overlap_is_required()
    {
        var error = Fails(Raw(("strategy", "word"), ("max_chunk_size", 100)));
        Assert.Equal(["[chunking_settings] does not contain the required setting [overlap]"], error.Errors);
    }

    [Fact]
    public void Word_overlap_is_at_most_half_the_chunk_size()
    {
        Assert.Equal(5, ChunkingSettings.Word(10, 5).Overlap);
        Assert.Equal(0, ChunkingSettings.Word(10, 0).Overlap);
        var error = Fails(Raw(("strategy", "word"), ("max_chunk_size", 11), ("overlap", 6)));
        Assert.Equal(["[chunking_settings] Invalid value [6.0]. [overlap] must be a less than or equal to [5.0]"], error.Errors);
    }

    [Fact]
    public void Word_overlap_is_not_negative()
    {
        var error = Fails(Raw(("strategy", "word"), ("max_chunk_size", 100), ("overlap", -1)));
        Assert.Equal(["[chunking_settings] Invalid value [-1.0]. [overlap] must be a greater than or equal to [0.0]"], error.Errors);
    }

    [Theory]
    [InlineData("sentence", "Sentence based chunking settings can not have the following settings: [overlap, foo]", "overlap")]
    [InlineData("word", "Word based chunking settings can not have the following settings: [sentence_overlap, foo]", "sentence_overlap")]
    [InlineData("recursive", "Recursive chunking settings can not have the following settings: [overlap, foo]", "overlap")]
    public void Unknown_keys_are_named(string strategy, string message, string foreignKey)
    {
        var raw = Raw(("strategy", strategy), ("max_chunk_size", 100), (foreignKey, 1), ("foo", "bar"));
        if (strategy == "word")
        {
            raw["overlap"] = 10;
        }

        Assert.Equal([message], Fails(raw).Errors);
    }

    [Fact]
    public void None_takes_no_other_settings()
    {
        Assert.Equal(ChunkingSettings.None, ChunkingSettings.FromDictionary(Raw(("strategy", "none"))));
        var error = Fails(Raw(("strategy", "none"), ("max_chunk_size", 100)));
        Assert.Equal(["Sentence based chunking settings can not have the following settings: [max_chunk_size]"], error.Errors);
    }

    [Fact]
    public void Several_broken_rules_are_reported_together()
    {
        var error = Fails(Raw(("strategy", "sentence"), ("max_chunk_size", 5), ("sentence_overlap", 3), ("x", 1)));
        Assert.Equal(3, error.Errors.Count);
        Assert.StartsWith("Validation Failed: 1: Sentence based chunking settings can not have the following settings: [x];2: ", error.Message);
    }

    [Fact]
    public void Recursive_resolves_separator_groups()
    {
        var markdown = ChunkingSettings.Recursive(100, SeparatorGroup.Markdown);
        Assert.Equal(["\n# ", "\n## ", "\n### ", "\n#### ", "\n##### ", "\n###### ", "\n\n", "\n"], markdown.Separators);
        var plain = ChunkingSettings.FromDictionary(Raw(("strategy", "recursive"), ("max_chunk_size", 100)));
        Assert.Equal(["\n\n", "\n"], plain.Separators);
        Assert.Equal(SeparatorGroup.Plaintext, plain.SeparatorGroup);
        var own = ChunkingSettings.Recursive(100, ["\\.", ";"]);
        Assert.Equal(["\\.", ";"], own.Separators);
        Assert.Null(own.SeparatorGroup);
    }

    [Fact]
    public void Recursive_cannot_have_both_a_group_and_separators()
    {
        var error = Fails(Raw(("strategy", "recursive"), ("max_chunk_size", 100), ("separator_group", "markdown"), ("separators", new[] { "a" })));
        Assert.Equal(["Recursive chunking settings can not have both separators and separator_set"], error.Errors);
    }

    [Fact]
    public void Recursive_separators_must_not_be_empty()
    {
        var error = Fails(Raw(("strategy", "recursive"), ("max_chunk_size", 100), ("separators", Array.Empty<string>())));
        Assert.Equal(["Recursive chunking settings can not have an empty list of separators"], error.Errors);
    }

    [Fact]
    public void Recursive_separators_must_be_regular_expressions()
    {
        var error = Fails(Raw(("strategy", "recursive"), ("max_chunk_size", 100), ("separators", new[] { "(" })));
        Assert.Equal(["Recursive chunking settings separator [(] is not a valid regular expression"], error.Errors);
    }

    [Fact]
    public void An_unknown_separator_group_is_rejected()
    {
        var error = Fails(Raw(("strategy", "recursive"), ("max_chunk_size", 100), ("separator_group", "html")));
        Assert.Equal(["[chunking_settings] Invalid value [html] received. [separator_group] must be one of [markdown, plaintext]"], error.Errors);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_named()
    {
        var error = Fails(Raw(("strategy", "sentence"), ("max_chunk_size", "big")));
        Assert.Equal(["field [max_chunk_size] is not of the expected type. The value [big] cannot be converted to a [Integer]"], error.Errors);
    }

    [Fact]
    public void Parsed_json_is_accepted_and_round_trips_through_the_wire_form()
    {
        using var document = JsonDocument.Parse("""{"strategy":"word","max_chunk_size":10,"overlap":1}""");
        var raw = document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
        var settings = ChunkingSettings.FromDictionary(raw);
        Assert.Equal(ChunkingSettings.Word(10, 1), settings);

        foreach (var original in new[] { settings, ChunkingSettings.Default, ChunkingSettings.None, ChunkingSettings.Recursive(50, SeparatorGroup.Markdown), ChunkingSettings.Recursive(50, ["x+"]) })
        {
            var back = ChunkingSettings.FromDictionary(original.ToDictionary().ToDictionary(p => p.Key, p => (object?)p.Value));
            Assert.Equal(original, back);
        }
    }
}
