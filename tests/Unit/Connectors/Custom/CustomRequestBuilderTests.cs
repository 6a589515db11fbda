using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Custom;
using static WebConsole.Unit.Connectors.Custom.CustomEndpointSettingsTests;

namespace WebConsole.Unit.Connectors.Custom;

public sealed class CustomRequestBuilderTests
{
    [Fact]
    public void Embedding_requests_render_input_as_a_json_array_and_translate_the_input_type()
    {
        var settings = Parse(TaskType.TextEmbedding, Embedding(), null);

        var search = CustomRequestBuilder.Build(settings, new CustomRequestValues(["first \"quoted\"", "zweite Zeile\n"], InputType.Search));
        Assert.Equal("""{"texts": ["first \"quoted\"","zweite Zeile\n"], "input_type": "search_query"}""", search.Body);
        Assert.Equal("https://provider.example/embed", search.Uri.ToString());
        Assert.Equal(KeyValuePair.Create("Authorization", "Bearer sk-123"), Assert.Single(search.Headers));

        Assert.Contains("\"input_type\": \"search_document\"", CustomRequestBuilder.Build(settings, new CustomRequestValues(["x"], InputType.Ingest)).Body, StringComparison.Ordinal);

        // No translation for the input type, or none stated: the default.
        Assert.Contains("\"input_type\": \"default_type\"", CustomRequestBuilder.Build(settings, new CustomRequestValues(["x"], InputType.Classification)).Body, StringComparison.Ordinal);
        Assert.Contains("\"input_type\": \"default_type\"", CustomRequestBuilder.Build(settings, new CustomRequestValues(["x"])).Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_translation_the_input_type_renders_empty()
    {
        var json = Embedding();
        json.Remove("input_type");
        var request = CustomRequestBuilder.Build(Parse(TaskType.TextEmbedding, json, null), new CustomRequestValues(["x"], InputType.Search));
        Assert.Equal("""{"texts": ["x"], "input_type": ""}""", request.Body);
    }

    [Fact]
    public void Secret_and_task_parameters_render_as_json_in_the_body_and_as_text_elsewhere()
    {
        var json = Embedding();
        json["url"] = "https://provider.example/${region}/embed?fixed=1";
        json["headers"] = new JsonObject { ["Authorization"] = "Bearer ${api_key}", ["X-Region"] = "${region}" };
        json["query_parameters"] = new JsonArray(new JsonArray("api-version", "2024 & later"), new JsonArray("key", "${api_key}"));
        json["request"] = """{"texts": ${input}, "model": ${model}, "dims": ${dims}, "normalize": ${normalize}, "scale": ${scale}, "key": ${api_key}}""";
        var settings = Parse(TaskType.TextEmbedding, json, Parameters(new JsonObject
        {
            ["model"] = "embed-v3",
            ["dims"] = 256,
            ["normalize"] = true,
            ["scale"] = 0.5,
            ["region"] = "eu",
        }));

        var request = CustomRequestBuilder.Build(settings, new CustomRequestValues(["x"]));
        Assert.Equal("""{"texts": ["x"], "model": "embed-v3", "dims": 256, "normalize": true, "scale": 0.5, "key": "sk-123"}""", request.Body);
        Assert.Equal("https://provider.example/eu/embed?fixed=1&api-version=2024%20%26%20later&key=sk-123", request.Uri.AbsoluteUri);
        Assert.Equal([KeyValuePair.Create("Authorization", "Bearer sk-123"), KeyValuePair.Create("X-Region", "eu")], request.Headers);
    }

    [Fact]
    public void Rerank_requests_render_query_top_n_and_return_documents()
    {
        var json = For(TaskType.Rerank);
        json["request"] = """{"query": ${query}, "documents": ${input}, "top_n": ${top_n}, "return_documents": ${return_documents}}""";
        var settings = Parse(TaskType.Rerank, json, null);

        var request = CustomRequestBuilder.Build(settings, new CustomRequestValues(["a", "b"], Query: "what \"is\" it", TopN: 1, ReturnDocuments: false));
        Assert.Equal("""{"query": "what \"is\" it", "documents": ["a","b"], "top_n": 1, "return_documents": false}""", request.Body);

        // top_n used by the template but not given by the request: the placeholder is named.
        var error = Assert.Throws<CustomTemplateException>(() =>
            CustomRequestBuilder.Build(settings, new CustomRequestValues(["a"], Query: "q", ReturnDocuments: true)));
        Assert.Equal("Found placeholder [${top_n}] in field [request] after replacement call", error.Message);
    }

    [Fact]
    public void Completion_requests_render_the_prompt_as_a_json_string()
    {
        var json = For(TaskType.Completion);
        json["request"] = """{"prompt": ${input}}""";
        var settings = Parse(TaskType.Completion, json, null);
        Assert.Equal("""{"prompt": "Say \"hi\" at the café"}""", CustomRequestBuilder.Build(settings, new CustomRequestValues(["Say \"hi\" at the café"])).Body);

        // Characters beyond the basic plane are escaped, and read back the same.
        var request = CustomRequestBuilder.Build(settings, new CustomRequestValues(["wave 👋"]));
        Assert.Equal("wave 👋", JsonNode.Parse(request.Body)!["prompt"]!.GetValue<string>());
    }

    [Fact]
    public void Inputs_that_look_like_placeholders_are_sent_as_they_are()
    {
        var request = CustomRequestBuilder.Build(Parse(TaskType.TextEmbedding, Embedding(), null), new CustomRequestValues(["${api_key}"]));
        Assert.DoesNotContain("sk-123", request.Body, StringComparison.Ordinal);
        Assert.Equal("${api_key}", JsonNode.Parse(request.Body)!["texts"]![0]!.GetValue<string>());
    }

    private static CustomEndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings) =>
        CustomEndpointSettings.Parse(taskType, serviceSettings, taskSettings);
}
