using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// <c>elastic</c> pointed at another WebConsole process: every task type through the first installation's
/// <c>/_inference</c> (streams included) gives the upstream's answers and usage; an operator's catalog model served by the
/// upstream bills the tenant at catalog prices without ever showing the key; upstream errors come through mapped.
/// </summary>
[Collection(RemoteElasticCollection.Name)]
public sealed class RemoteElasticTests(RemoteElasticServers fixture)
{
    private static StringContent Json(object body) => OpenAiConnectorFixture.Json(body);

    [Fact]
    public async Task Every_task_type_is_served_by_the_upstream_with_its_answers_and_usage()
    {
        using var first = fixture.FirstOperator();
        using var upstream = fixture.UpstreamOperator();
        var answers = new List<string>();
        foreach (var (taskType, id) in new[]
        {
            ("text_embedding", RemoteElasticServers.Embedding), ("sparse_embedding", RemoteElasticServers.Sparse), ("rerank", RemoteElasticServers.Rerank),
            ("completion", RemoteElasticServers.Completion), ("chat_completion", RemoteElasticServers.Chat),
        })
        {
            using var created = await first.PutAsync($"/_inference/{taskType}/remote-{id}", Json(new { service = "elastic", service_settings = fixture.RemoteSettings(id) }));
            var body = await created.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            var settings = JsonNode.Parse(body)!["service_settings"]!;
            Assert.Equal((id, null), ((string?)settings["inference_id"], settings["api_key"]));
        }

        // The same request on both installations: the first answers what the upstream does, with the upstream's usage.
        async Task<(JsonNode Here, JsonNode There, HttpResponseMessage HereResponse, HttpResponseMessage ThereResponse)> BothAsync(string path, string upstreamPath, object request)
        {
            var here = await first.PostAsync(path, Json(request));
            var there = await upstream.PostAsync(upstreamPath, Json(request));
            var hereText = await here.Content.ReadAsStringAsync();
            answers.Add(hereText);
            Assert.True(here.StatusCode == HttpStatusCode.OK, fixture.Explain(hereText));
            Assert.True(there.StatusCode == HttpStatusCode.OK, fixture.Explain(await there.Content.ReadAsStringAsync()));
            return (JsonNode.Parse(hereText)!, JsonNode.Parse(await there.Content.ReadAsStringAsync())!, here, there);
        }

        static string Tokens(HttpResponseMessage r, string name) => r.Headers.GetValues(name).Single();

        var embed = await BothAsync("/_inference/text_embedding/remote-up-embed", "/_inference/text_embedding/up-embed", new { input = new[] { "hello world", "a fox" } });
        Assert.Equal(embed.There["text_embedding"]!.ToJsonString(), embed.Here["text_embedding"]!.ToJsonString());
        Assert.Equal(Tokens(embed.ThereResponse, "x-webconsole-input-tokens"), Tokens(embed.HereResponse, "x-webconsole-input-tokens"));

        var sparse = await BothAsync("/_inference/sparse_embedding/remote-up-sparse", "/_inference/sparse_embedding/up-sparse", new { input = "the quick brown fox" });
        Assert.Equal(
            sparse.There["sparse_embedding"]![0]!["embedding"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal),
            sparse.Here["sparse_embedding"]![0]!["embedding"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));

        var rerank = await BothAsync("/_inference/rerank/remote-up-rerank", "/_inference/rerank/up-rerank", new { query = "fox", input = new[] { "a dog", "a fox", "the sky" }, top_n = 2 });
        Assert.Equal(2, rerank.Here["rerank"]!.AsArray().Count);
        Assert.Equal(rerank.There["rerank"]!.AsArray().Select(r => (int)r!["index"]!), rerank.Here["rerank"]!.AsArray().Select(r => (int)r!["index"]!));
        string[] documents = ["a dog", "a fox", "the sky"];
        Assert.All(rerank.Here["rerank"]!.AsArray(), r => Assert.Equal(documents[(int)r!["index"]!], (string?)r["text"]));
        Assert.Equal(Tokens(rerank.ThereResponse, "x-webconsole-input-tokens"), Tokens(rerank.HereResponse, "x-webconsole-input-tokens"));

        var completion = await BothAsync("/_inference/completion/remote-up-complete", "/_inference/completion/up-complete", new { input = "Once upon a time" });
        Assert.False(string.IsNullOrEmpty((string?)completion.Here["completion"]![0]!["result"]));
        Assert.Equal(Tokens(completion.ThereResponse, "x-webconsole-input-tokens"), Tokens(completion.HereResponse, "x-webconsole-input-tokens"));
        Assert.True(int.Parse(Tokens(completion.HereResponse, "x-webconsole-output-tokens"), CultureInfo.InvariantCulture) > 0);

        var messages = new[] { new { role = "user", content = "Tell me about foxes." } };
        var chat = await BothAsync("/_inference/chat_completion/remote-up-chat", "/_inference/chat_completion/up-chat", new { messages, max_completion_tokens = 8 });
        Assert.Equal((int)chat.There["usage"]!["prompt_tokens"]!, (int)chat.Here["usage"]!["prompt_tokens"]!);
        Assert.Equal("chat.completion", (string?)chat.Here["object"]);

        // Streams: the upstream's pieces, then its usage, then [DONE].
        foreach (var (path, request) in new (string, object)[]
        {
            ("/_inference/chat_completion/remote-up-chat/_stream", new { messages, max_completion_tokens = 8 }),
            ("/_inference/completion/remote-up-complete/_stream", new { input = "Once upon a time" }),
        })
        {
            using var stream = await first.PostAsync(path, Json(request));
            var text = await stream.Content.ReadAsStringAsync();
            answers.Add(text);
            Assert.True(stream.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var events = OpenAiConnectorFixture.Events(text);
            Assert.All(events, e => Assert.Equal("message", e.Event));
            Assert.Equal("[DONE]", events[^1].Data);
            var chunks = events[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            var pieces = chunks.SelectMany(c => (c["choices"] as JsonArray)?.Select(x => (string?)x!["delta"]?["content"]) ?? (c["completion"] as JsonArray)!.Select(x => (string?)x!["delta"]));
            Assert.False(string.IsNullOrEmpty(string.Concat(pieces)), fixture.Explain(text));
            var usage = chunks[^1]["usage"]!;
            var upstreamPrompt = path.Contains("chat_completion", StringComparison.Ordinal)
                ? (int)chat.There["usage"]!["prompt_tokens"]!
                : int.Parse(Tokens(completion.ThereResponse, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture);
            Assert.Equal(upstreamPrompt, (int)usage["prompt_tokens"]!);
            Assert.True((int)usage["completion_tokens"]! > 0);
        }

        Assert.All(answers, a => Assert.DoesNotContain(fixture.UpstreamKey, a, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.UpstreamKey, fixture.First.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_catalog_model_served_by_the_upstream_bills_the_tenant_at_the_catalog_price_and_never_shows_the_key()
    {
        const string CatalogId = "openai-text-embedding-3-small";
        using var op = fixture.FirstOperator();
        var answers = new List<string>();
        using (var assigned = await op.PutAsJsonAsync($"/api/catalog/{CatalogId}/backend", new { service = "elastic", service_settings = fixture.RemoteSettings(RemoteElasticServers.Embedding) }))
        {
            var body = await assigned.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(assigned.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            var backend = JsonNode.Parse(body)!["backend"]!;
            Assert.Equal(("upstream", "elastic"), ((string?)backend["kind"], (string?)backend["service"]));
            Assert.Equal(["api_key"], backend["secret_fields"]!.AsArray().Select(f => (string)f!));
            Assert.Null(backend["service_settings"]!["api_key"]);
        }

        using (var price = await op.PostAsJsonAsync("/api/prices", new { model_id = CatalogId, input_per_million = 1000m, output_per_million = 0m }))
        {
            Assert.True(price.StatusCode == HttpStatusCode.Created, await price.Content.ReadAsStringAsync());
        }

        using var tenant = fixture.Tenant();
        using (var created = await tenant.PutAsync("/_inference/text_embedding/tenant-managed", Json(new { service = "elastic", service_settings = new { model_id = CatalogId } })))
        {
            var body = await created.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
        }

        using var upstream = fixture.UpstreamOperator();
        using var direct = await upstream.PostAsync("/_inference/text_embedding/up-embed", Json(new { input = "hello world" }));
        foreach (var path in new[] { "/v1/embeddings", "/_inference/text_embedding/tenant-managed" })
        {
            using var response = await tenant.PostAsync(path, Json(path.StartsWith("/v1", StringComparison.Ordinal) ? new { model = "tenant-managed", input = "hello world" } : (object)new { input = "hello world" }));
            var body = await response.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            var input = long.Parse(response.Headers.GetValues("x-webconsole-input-tokens").Single(), CultureInfo.InvariantCulture);
            Assert.Equal(direct.Headers.GetValues("x-webconsole-input-tokens").Single(), input.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(input * 0.001m, decimal.Parse(response.Headers.GetValues("x-webconsole-cost").Single(), NumberStyles.Number, CultureInfo.InvariantCulture));
        }

        foreach (var path in new[] { "/api/catalog", $"/api/catalog/{CatalogId}", "/api/audit?resource_type=catalog_model" })
        {
            answers.Add(await op.GetStringAsync(new Uri(path, UriKind.Relative)));
        }

        answers.Add(await tenant.GetStringAsync(new Uri($"/api/catalog/{CatalogId}", UriKind.Relative)));
        Assert.All(answers, a => Assert.DoesNotContain(fixture.UpstreamKey, a, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.UpstreamKey, fixture.First.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream_errors_come_through_mapped_on_create_and_on_requests_and_bill_nothing()
    {
        using var first = fixture.FirstOperator();
        using var upstream = fixture.UpstreamOperator();
        var answers = new List<string>();

        // A missing upstream endpoint and a wrong key: the probe's errors, nothing stored.
        using (var missing = await first.PutAsync("/_inference/text_embedding/remote-missing", Json(new { service = "elastic", service_settings = fixture.RemoteSettings("not-there") })))
        {
            var body = await missing.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
            Assert.Contains("status [404]. Error message: [Inference endpoint not found [not-there]]", body, StringComparison.Ordinal);
        }

        const string wrongKey = "d3Jvbmc6bm90LWEtcmVhbC1rZXktOTk5OQ==";
        using (var refused = await first.PutAsync("/_inference/text_embedding/remote-wrong-key", Json(new { service = "elastic", service_settings = fixture.RemoteSettings(RemoteElasticServers.Embedding, wrongKey) })))
        {
            var body = await refused.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("Received an authentication error status code for request from inference entity id [remote-wrong-key] status [401]", body, StringComparison.Ordinal);
        }

        // An upstream endpoint removed after ours was made: its 404 keeps its status and type.
        using (var temp = await upstream.PutAsJsonAsync("/_inference/text_embedding/up-temp", new JsonObject
        {
            ["service"] = "elasticsearch",
            ["service_settings"] = new JsonObject { ["model_id"] = "remote-bert", ["num_allocations"] = 1, ["num_threads"] = 1 },
        }))
        {
            Assert.True(temp.StatusCode == HttpStatusCode.OK, fixture.Explain(await temp.Content.ReadAsStringAsync()));
        }

        using (var created = await first.PutAsync("/_inference/text_embedding/remote-temp", Json(new { service = "elastic", service_settings = fixture.RemoteSettings("up-temp") })))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(await created.Content.ReadAsStringAsync()));
        }

        using (var deleted = await upstream.DeleteAsync(new Uri("/_inference/text_embedding/up-temp", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (var gone = await first.PostAsync("/_inference/text_embedding/remote-temp", Json(new { input = "x" })))
        {
            var body = await gone.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(gone.StatusCode == HttpStatusCode.NotFound, fixture.Explain(body));
            var error = JsonNode.Parse(body)!["error"]!;
            Assert.Equal("resource_not_found_exception", (string?)error["type"]);
            Assert.EndsWith("for request from inference entity id [remote-temp] status [404]. Error message: [Inference endpoint not found [up-temp]]", (string)error["reason"]!, StringComparison.Ordinal);
        }

        var summary = JsonNode.Parse(await first.GetStringAsync(new Uri("/api/usage/summary?group_by=endpoint&inference_id=remote-temp", UriKind.Relative)))!;
        Assert.DoesNotContain(summary["groups"]!.AsArray(), g => (string?)g!["key"] == "remote-temp");
        foreach (var id in new[] { "remote-missing", "remote-wrong-key" })
        {
            using var stored = await first.GetAsync($"/_inference/{id}");
            Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
        }

        Assert.All(answers, a => Assert.DoesNotContain(wrongKey, a, StringComparison.Ordinal));
        Assert.DoesNotContain(wrongKey, fixture.First.Log, StringComparison.Ordinal);
    }
}
