using System.Text.Json.Nodes;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Web.Components.Endpoints;

namespace WebConsole.Unit.Portal.Endpoints;

/// <summary>
/// The add-endpoint form built from the real services' configuration schemas (<c>_services</c>): fields per task type
/// with their defaults, adaptive allocations and chunking settings, the create body, and server messages placed beside
/// the field they name.
/// </summary>
public sealed class EndpointFormTests
{
    // Only the schemas are read: the services' dependencies (host, HTTP clients) are never reached.
    private static readonly IReadOnlyList<IInferenceService> Services =
    [
        new ElasticsearchInferenceService(null!, null!, null!, null!, null!),
        new OpenAiInferenceService(null!),
    ];

    [Fact]
    public void The_fields_are_the_services_for_the_task_type_with_defaults_and_adaptive_allocations_apart()
    {
        var form = new EndpointForm(Services);
        form.SelectService("elasticsearch");
        Assert.Null(form.TaskType);
        Assert.Contains("rerank", form.TaskTypeOptions);
        form.SelectTaskType("text_embedding");

        Assert.Equal(["model_id", "num_allocations", "num_threads", "deployment_id"], form.Fields.Select(f => f.Key));
        Assert.True(form.Fields.Single(f => f.Key == "model_id").Schema.Required);
        Assert.Equal("1", form.Fields.Single(f => f.Key == "num_threads").Text);
        Assert.True(form.HasAdaptive);
        Assert.True(form.SupportsChunking);

        form.SelectTaskType("rerank");
        Assert.False(form.SupportsChunking);
    }

    [Fact]
    public void A_sensitive_setting_is_marked_so_and_has_no_default_text()
    {
        var form = new EndpointForm(Services);
        form.SelectService("openai");
        form.SelectTaskType("text_embedding");

        var apiKey = form.Fields.Single(f => f.Key == "api_key");
        Assert.True(apiKey.Schema.Sensitive);
        Assert.Equal(string.Empty, apiKey.Text);
        Assert.False(form.HasAdaptive);
    }

    [Fact]
    public void The_body_carries_typed_values_adaptive_allocations_instead_of_a_fixed_count_and_custom_chunking()
    {
        var form = new EndpointForm(Services) { InferenceId = "my-e5" };
        form.SelectService("elasticsearch");
        form.SelectTaskType("text_embedding");
        form.Fields.Single(f => f.Key == "model_id").Text = "team/e5";
        form.AdaptiveEnabled = true;
        form.AdaptiveMin = "1";
        form.AdaptiveMax = "3";
        form.CustomChunking = true;
        form.ChunkingStrategy = "word";
        form.MaxChunkSize = "120";
        form.Overlap = "40";

        var body = form.BuildBody();

        Assert.NotNull(body);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {
              "service": "elasticsearch",
              "task_type": "text_embedding",
              "service_settings": {
                "model_id": "team/e5",
                "num_threads": 1,
                "adaptive_allocations": { "enabled": true, "min_number_of_allocations": 1, "max_number_of_allocations": 3 }
              },
              "chunking_settings": { "strategy": "word", "max_chunk_size": 120, "overlap": 40 }
            }
            """), body), body!.ToJsonString());
    }

    [Fact]
    public void The_update_form_offers_only_updatable_settings_and_sends_only_those_given()
    {
        var form = new EndpointForm(Services);
        form.StartUpdate("elasticsearch", "text_embedding");

        Assert.Equal(["num_allocations"], form.Fields.Select(f => f.Key));
        Assert.Equal(string.Empty, form.Fields[0].Text);
        Assert.True(form.HasAdaptive);
        Assert.Null(form.BuildUpdateBody());
        Assert.NotNull(form.GeneralError);

        form.Fields[0].Text = "2";
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"service_settings":{"num_allocations":2}}"""), form.BuildUpdateBody()));

        form.AdaptiveEnabled = true;
        form.AdaptiveMin = "0";
        form.AdaptiveMax = "2";
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"service_settings":{"adaptive_allocations":{"enabled":true,"min_number_of_allocations":0,"max_number_of_allocations":2}}}"""),
            form.BuildUpdateBody()));

        var openAi = new EndpointForm(Services);
        openAi.StartUpdate("openai", "text_embedding");
        Assert.Contains(openAi.Fields, f => f.Key == "api_key" && f.Schema.Sensitive);
    }

    [Fact]
    public void Without_a_service_or_task_type_nothing_is_sent_and_the_field_says_why()
    {
        var form = new EndpointForm(Services);
        Assert.Null(form.BuildBody());
        Assert.Equal("Choose a service.", form.ErrorOf("service"));

        form.SelectService("openai");
        Assert.Null(form.BuildBody());
        Assert.Equal("Choose a task type.", form.ErrorOf("task_type"));
    }

    [Theory]
    [InlineData("[num_threads] must be a power of 2 less than or equal to 32", "num_threads")]
    [InlineData("[service_settings] does not contain the required setting [model_id]", "model_id")]
    [InlineData("[max_number_of_allocations] must be greater than or equal to [min_number_of_allocations]", EndpointForm.AdaptiveKey)]
    [InlineData("[chunking_settings] Invalid value [0]. [max_chunk_size] must be a greater than or equal to [10.0]", "chunking.max_chunk_size")]
    [InlineData("Invalid inference_id; 'Bad Id' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric", EndpointForm.InferenceIdKey)]
    [InlineData("Inference endpoint [taken] already exists", EndpointForm.InferenceIdKey)]
    public void A_server_message_goes_beside_the_field_it_names(string message, string key)
    {
        var form = new EndpointForm(Services) { InferenceId = "taken" };
        form.SelectService("elasticsearch");
        form.SelectTaskType("text_embedding");

        form.ShowServerError(message);

        Assert.Equal(message, form.ErrorOf(key));
        Assert.Null(form.GeneralError);
        Assert.Single(form.Errors);
    }

    [Fact]
    public void A_message_that_names_no_field_is_shown_above_the_form()
    {
        var form = new EndpointForm(Services);
        form.SelectService("elasticsearch");
        form.SelectTaskType("text_embedding");

        form.ShowServerError("Model [nope] is not a model of this installation");

        Assert.Equal("Model [nope] is not a model of this installation", form.GeneralError);
        Assert.Empty(form.Errors);
    }
}
