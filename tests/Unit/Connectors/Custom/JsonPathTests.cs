using System.Text.Json;
using WebConsole.Infrastructure.Connectors.Custom;

namespace WebConsole.Unit.Connectors.Custom;

public sealed class JsonPathTests
{
    private const string Embeddings = """
        {"object":"list","data":[{"index":0,"embedding":[0.5,-1]},{"index":1,"embedding":[2,3.25]}],"usage":{"prompt_tokens":8}}
        """;

    [Fact]
    public void A_field_path_reads_nested_objects()
    {
        Assert.Equal(8, Evaluate("$.usage.prompt_tokens", Embeddings).AsInt32());
        Assert.Equal("list", Evaluate("$.object", Embeddings).AsString());
    }

    [Fact]
    public void A_wildcard_keeps_one_list_per_item_as_Elasticsearch_does()
    {
        // $.data[*].embedding[*] is a list of lists (JSONPath proper would flatten it to four numbers).
        var lists = Evaluate("$.data[*].embedding[*]", Embeddings).AsList();
        Assert.Equal(2, lists.Count);
        Assert.Equal([0.5, -1], lists[0].AsList().Select(v => v.AsNumber()));
        Assert.Equal([2, 3.25], lists[1].AsList().Select(v => v.AsNumber()));

        // Without the last wildcard the arrays themselves are read as lists.
        var arrays = Evaluate("$.data[*].embedding", Embeddings).AsList();
        Assert.Equal([2.0, 3.25], arrays[1].AsList().Select(v => v.AsNumber()));
    }

    [Fact]
    public void Nested_wildcards_over_lists_of_objects_keep_their_nesting()
    {
        const string json = """{"result":[{"key":[{"a":1.1},{"a":2.2}]},{"key":[{"a":3.3},{"a":4.4}]}]}""";
        var nested = Evaluate("$.result[*].key[*].a", json).AsList();
        Assert.Equal([[1.1, 2.2], [3.3, 4.4]], nested.Select(l => l.AsList().Select(v => v.AsNumber()).ToArray()));
    }

    [Fact]
    public void An_index_picks_one_element()
    {
        Assert.Equal(-1, Evaluate("$.data[0].embedding[1]", Embeddings).AsNumber());
        Assert.Equal(1, Evaluate("$.data[1].index", Embeddings).AsInt32());
    }

    [Fact]
    public void Null_items_are_left_out_of_a_wildcard()
    {
        Assert.Equal(["a", "b"], Evaluate("$.items[*]", """{"items":["a",null,"b"]}""").AsList().Select(v => v.AsString()));
    }

    [Theory]
    [InlineData("$.missing", "Unable to find field [$.missing]")]
    [InlineData("$.object.name", "is a string, not an object")]
    [InlineData("$.usage[*]", "expects a list at [$.usage] but found an object")]
    [InlineData("$.data[5]", "Index [5] of [$.data] is out of bounds for a list of size [2]")]
    public void A_document_of_another_shape_is_reported_with_the_place(string path, string message)
    {
        var error = Assert.Throws<CustomResponseException>(() => Evaluate(path, Embeddings));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data[*]", "must start with a dollar sign")]
    [InlineData("$..data", "empty field name")]
    [InlineData("$.data[x]", "invalid array step [x]")]
    [InlineData("$.data[*", "unclosed [")]
    [InlineData("$data", "fields must be delimited by a dot")]
    public void Invalid_paths_are_refused_when_parsed(string path, string message)
    {
        var error = Assert.Throws<FormatException>(() => JsonPath.Parse(path));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_root_alone_selects_the_whole_document() =>
        Assert.Equal(3, Evaluate("$", "[1,2,3]").AsList().Count);

    private static JsonPathValue Evaluate(string path, string json)
    {
        using var document = JsonDocument.Parse(json);
        // The value outlives the document in these tests only through Clone.
        return JsonPath.Parse(path).Evaluate(document.RootElement.Clone());
    }
}
