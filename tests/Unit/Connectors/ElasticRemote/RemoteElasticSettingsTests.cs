using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.ElasticRemote;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Unit.Catalog;

namespace WebConsole.Unit.Connectors.ElasticRemote;

/// <summary>
/// The <c>elastic</c> service's remote form: <c>url</c> + <c>inference_id</c> + secret <c>api_key</c> selects another
/// installation; without <c>url</c> nothing changes, and the remote-only keys are refused without echoing their values.
/// </summary>
public sealed class RemoteElasticSettingsTests : IAsyncLifetime
{
    private CatalogTestBed _bed = default!;

    public async Task InitializeAsync() => _bed = await CatalogTestBed.StartAsync(new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero));

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public void With_url_the_elastic_service_parses_the_remote_form_with_the_key_secret()
    {
        var settings = Assert.IsType<RemoteElasticSettings>(_bed.Elastic.Parse(TaskType.Rerank, new JsonObject
        {
            ["url"] = "https://upstream.example.com/base/",
            ["inference_id"] = "their-rerank",
            ["api_key"] = "ZW5jb2RlZDprZXk=",
            ["rate_limit"] = new JsonObject { ["requests_per_minute"] = 60 },
        }, null));
        Assert.Equal(("https://upstream.example.com/base", "their-rerank", 60), (settings.Url, settings.UpstreamInferenceId, settings.RequestsPerMinute));
        Assert.Contains("api_key", _bed.Elastic.SecretFields);
        var stored = settings.ToServiceSettings();
        Assert.Equal(["url", "inference_id", "rate_limit", "api_key"], stored.Select(p => p.Key));

        var schema = _bed.Elastic.Configuration.ToJson()["configurations"]!;
        Assert.True(schema["api_key"]!["sensitive"]!.GetValue<bool>());
        Assert.True(schema["api_key"]!["updatable"]!.GetValue<bool>());
        Assert.False(schema["url"]!["updatable"]!.GetValue<bool>());
        Assert.NotNull(schema["inference_id"]);
    }

    [Fact]
    public void Without_url_the_elastic_service_is_unchanged_and_refuses_remote_keys_without_echoing_them()
    {
        Assert.IsType<ElasticEndpointSettings>(_bed.Elastic.Parse(TaskType.TextEmbedding, new JsonObject { ["model_id"] = CatalogTestBed.EmbeddedModel }, null));

        var error = Assert.Throws<InferenceApiException>(() => _bed.Elastic.Parse(TaskType.TextEmbedding,
            new JsonObject { ["model_id"] = CatalogTestBed.EmbeddedModel, ["api_key"] = "secret-value-1234" }, null));
        Assert.Equal("[service_settings] [api_key] is only allowed together with [url], which names another installation that serves the endpoint", error.Reason);
        Assert.DoesNotContain("secret-value-1234", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"url":"https://u.example","api_key":"k"}""", "[service_settings] does not contain the required setting [inference_id]")]
    [InlineData("""{"url":"https://u.example","inference_id":"x"}""", "[service_settings] does not contain the required setting [api_key]")]
    [InlineData("""{"url":"https://u.example","inference_id":"x","api_key":"k","model_id":"m"}""", "[service_settings] [model_id] cannot be combined with [url]: name the other installation's endpoint with [inference_id]")]
    [InlineData("""{"url":"https://u.example?x=1","inference_id":"x","api_key":"k"}""", "[service_settings] Invalid url [https://u.example?x=1] received for field [url]. [url] must be the absolute http or https base URL of the other installation")]
    [InlineData("""{"url":"https://u.example","inference_id":"x","api_key":"k","num_threads":1}""", "Configuration contains settings [{num_threads=1}] unknown to the [elastic] service")]
    public void Bad_remote_settings_are_400s_naming_the_setting(string settings, string reason)
    {
        var error = Assert.Throws<InferenceApiException>(() => _bed.Elastic.Parse(TaskType.ChatCompletion, JsonNode.Parse(settings)!.AsObject(), null));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Fact]
    public void Upstream_error_envelopes_keep_their_status_and_type_inside_the_provider_message()
    {
        var settings = RemoteElasticSettings.Parse(TaskType.TextEmbedding,
            new JsonObject { ["url"] = "https://u.example", ["inference_id"] = "theirs", ["api_key"] = "k-secret-1" }, null, "elastic");
        using var http = new HttpClient();
        var client = new RemoteWebConsoleClient("mine", settings, http);
        Assert.Equal(new Uri("https://u.example/_inference/text_embedding/theirs"), client.EndpointUri());
        Assert.Equal(new Uri("https://u.example/_inference/text_embedding/theirs/_stream"), client.EndpointUri(stream: true));

        var gone = client.MapError(410, "model_end_of_life_exception", "Model [m] reached its end-of-life date [2026-04-28] and no longer serves requests", null);
        Assert.Equal((410, "model_end_of_life_exception"), (gone.Status, gone.Type));
        Assert.Equal("Received an unsuccessful status code for request from inference entity id [mine] status [410]. Error message: [Model [m] reached its end-of-life date [2026-04-28] and no longer serves requests]", gone.Reason);

        var limited = client.MapError(429, "status_exception", "Rate limit of [2] requests per minute reached", null);
        Assert.Equal((429, "Received a rate limit status code for request from inference entity id [mine] status [429]. Error message: [Rate limit of [2] requests per minute reached]"), (limited.Status, limited.Reason));

        var broken = client.MapError(503, "status_exception", "Model [x] is unavailable: k-secret-1", null);
        Assert.Equal((400, "status_exception"), (broken.Status, broken.Type));
        Assert.DoesNotContain("k-secret-1", broken.Reason, StringComparison.Ordinal);
    }
}
