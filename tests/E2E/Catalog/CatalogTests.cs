using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Catalog;

/// <summary>
/// The managed service end to end on a real server: the operator gives catalog models backends through <c>/api/catalog</c>,
/// a tenant of another organization calls them with <c>"service": "elastic"</c> on both REST surfaces and is billed at the
/// catalog id's price; a model without backend is refused on create; a model past its EOL date answers the contract's 410
/// on every surface.
/// </summary>
public sealed class CatalogTests(CatalogServer fixture) : IClassFixture<CatalogServer>
{
    private const string EolReasonSonnet = "Model [anthropic-claude-3.7-sonnet] reached its end-of-life date [2026-04-28] and no longer serves requests";

    [Fact]
    public async Task A_tenant_embeds_with_a_catalog_id_on_an_embedded_backend_on_both_surfaces_billed_at_the_catalog_price()
    {
        const string CatalogId = "openai-text-embedding-3-small";
        var row = await fixture.AssignAsync(CatalogId, new { embedded_model_id = CatalogServer.Bert });
        Assert.Equal("embedded", (string)row["backend"]!["kind"]!);
        Assert.Equal(CatalogServer.Bert, (string)row["backend"]!["embedded_model_id"]!);
        await fixture.SetPriceAsync(CatalogId, input: 1000m, output: 0m);

        using var tenant = fixture.Tenant();
        using (var forbidden = await tenant.PutAsJsonAsync($"/api/catalog/{CatalogId}/backend", new { embedded_model_id = CatalogServer.Bert }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }

        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "text_embedding", "managed-embed", CatalogId))
        {
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Equal($$"""{"model_id":"{{CatalogId}}"}""", JsonNode.Parse(body)!["service_settings"]!.ToJsonString());
        }

        decimal billed = 0;
        using (var embedded = await tenant.PostAsync("/_inference/text_embedding/managed-embed", CatalogServer.Json(new { input = new[] { "hello world", "a fox" } })))
        {
            var body = await embedded.Content.ReadAsStringAsync();
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            var embeddings = JsonNode.Parse(body)!["text_embedding"]!.AsArray();
            Assert.Equal(2, embeddings.Count);
            Assert.Equal(fixture.Dimensions, embeddings[0]!["embedding"]!.AsArray().Count);
            billed += AssertBilledAt(embedded, inputPerToken: 0.001m, outputPerToken: 0m);
        }

        using (var openAi = await tenant.PostAsync("/v1/embeddings", CatalogServer.Json(new { model = "managed-embed", input = "hello world" })))
        {
            var body = await openAi.Content.ReadAsStringAsync();
            Assert.True(openAi.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Equal(fixture.Dimensions, JsonNode.Parse(body)!["data"]![0]!["embedding"]!.AsArray().Count);
            billed += AssertBilledAt(openAi, inputPerToken: 0.001m, outputPerToken: 0m);
        }

        // The ledger records the catalog id, so the tenant's usage groups by it at the catalog price.
        var group = await UsageGroupAsync(tenant, CatalogId, requests: 2);
        Assert.Equal(billed, (decimal)group["cost"]!);
    }

    [Fact]
    public async Task A_tenant_chats_with_a_catalog_id_on_an_embedded_chat_model_on_both_surfaces_billed_for_input_and_output()
    {
        const string CatalogId = "openai-gpt-4.1-mini";
        await fixture.AssignAsync(CatalogId, new { embedded_model_id = CatalogServer.Llama });
        await fixture.SetPriceAsync(CatalogId, input: 2000m, output: 4000m);

        using var tenant = fixture.Tenant();
        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "chat_completion", "managed-chat", CatalogId))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(await created.Content.ReadAsStringAsync()));
        }

        var messages = new[] { new { role = "user", content = "Tell me about foxes." } };
        using (var chat = await tenant.PostAsync("/_inference/chat_completion/managed-chat", CatalogServer.Json(new { messages, max_completion_tokens = 4 })))
        {
            var body = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Equal(CatalogId, (string)JsonNode.Parse(body)!["model"]!);
            AssertBilledAt(chat, inputPerToken: 0.002m, outputPerToken: 0.004m);
        }

        using (var openAi = await tenant.PostAsync("/v1/chat/completions", CatalogServer.Json(new { model = "managed-chat", messages, max_completion_tokens = 4 })))
        {
            var body = await openAi.Content.ReadAsStringAsync();
            Assert.True(openAi.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.True((int)JsonNode.Parse(body)!["usage"]!["completion_tokens"]! > 0);
            AssertBilledAt(openAi, inputPerToken: 0.002m, outputPerToken: 0.004m);
        }

        // Completion runs on the same chat catalog model.
        using (var completion = await CatalogServer.CreateManagedEndpointAsync(tenant, "completion", "managed-completion", CatalogId))
        {
            Assert.True(completion.StatusCode == HttpStatusCode.OK, fixture.Explain(await completion.Content.ReadAsStringAsync()));
        }
    }

    [Fact]
    public async Task A_catalog_model_without_backend_is_refused_on_create_with_a_clear_400()
    {
        using var tenant = fixture.Tenant();
        using var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "rerank", "no-backend", "jina-reranker-v3");
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.Equal(
            "Catalog model [jina-reranker-v3] has no backend on this installation; an operator must assign one",
            (string)body["error"]!["reason"]!);

        using var get = await tenant.GetAsync(new Uri("/_inference/no-backend", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task A_catalog_model_past_its_eol_date_answers_410_on_create_and_on_every_surface()
    {
        const string CatalogId = "anthropic-claude-3.7-sonnet";
        await fixture.AssignAsync(CatalogId, new { embedded_model_id = CatalogServer.Llama });
        using var tenant = fixture.Tenant();

        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "chat_completion", "eol-create", CatalogId))
        {
            AssertEndOfLife(await created.Content.ReadAsStringAsync(), created.StatusCode, EolReasonSonnet);
        }

        // An endpoint made before the date (stored as create would have stored it): nothing moved it, and it serves nothing.
        var me = JsonNode.Parse(await tenant.GetStringAsync(new Uri("/api/me", UriKind.Relative)))!;
        await using (var db = fixture.Database())
        {
            db.InferenceEndpoints.Add(InferenceEndpoint.Create(
                Guid.NewGuid(), (Guid)me["organization_id"]!, InferenceId.Parse("eol-chat"), TaskType.ChatCompletion, "elastic",
                $$"""{"model_id":"{{CatalogId}}"}""", null, null, null, DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }

        var messages = new[] { new { role = "user", content = "Hello" } };
        using (var perform = await tenant.PostAsync("/_inference/chat_completion/eol-chat", CatalogServer.Json(new { messages })))
        {
            AssertEndOfLife(await perform.Content.ReadAsStringAsync(), perform.StatusCode, EolReasonSonnet);
        }

        using (var stream = await tenant.PostAsync("/_inference/chat_completion/eol-chat/_stream", CatalogServer.Json(new { messages })))
        {
            AssertEndOfLife(await stream.Content.ReadAsStringAsync(), stream.StatusCode, EolReasonSonnet);
        }

        foreach (var streamed in new[] { false, true })
        {
            using var openAi = await tenant.PostAsync("/v1/chat/completions", CatalogServer.Json(new { model = "eol-chat", messages, stream = streamed }));
            var error = JsonNode.Parse(await openAi.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal(HttpStatusCode.Gone, openAi.StatusCode);
            Assert.Equal(EolReasonSonnet, (string)error["message"]!);
            Assert.Equal("model_end_of_life_exception", (string)error["code"]!);
        }

        // Its GET still answers: only serving stops.
        using var get = await tenant.GetAsync(new Uri("/_inference/eol-chat", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task An_embedding_model_that_reaches_its_eol_date_stops_serving_on_every_surface_without_a_restart()
    {
        const string CatalogId = "openai-text-embedding-3-large";
        await fixture.AssignAsync(CatalogId, new { embedded_model_id = CatalogServer.Bert });
        using var tenant = fixture.Tenant();
        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "text_embedding", "eol-embed", CatalogId))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(await created.Content.ReadAsStringAsync()));
        }

        using (var served = await tenant.PostAsync("/_inference/text_embedding/eol-embed", CatalogServer.Json(new { input = "hello" })))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        // The catalog announces an EOL date that has passed (as a newer catalog.json would).
        await using (var db = fixture.Database())
        {
            await db.CatalogModels.Where(m => m.Id == CatalogId).ExecuteUpdateAsync(s => s.SetProperty(m => m.EolDate, (DateOnly?)new DateOnly(2026, 1, 1)));
        }

        const string Reason = "Model [openai-text-embedding-3-large] reached its end-of-life date [2026-01-01] and no longer serves requests";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        string body;
        do
        {
            // Other nodes' changes (here: the database's) are seen within the catalog's refresh interval.
            await Task.Delay(250);
            using var perform = await tenant.PostAsync("/_inference/text_embedding/eol-embed", CatalogServer.Json(new { input = "hello" }));
            (status, body) = (perform.StatusCode, await perform.Content.ReadAsStringAsync());
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow < deadline);

        AssertEndOfLife(body, status, Reason);
        using (var chunk = await tenant.PostAsync("/_inference/text_embedding/eol-embed/_chunk", CatalogServer.Json(new { input = "hello" })))
        {
            AssertEndOfLife(await chunk.Content.ReadAsStringAsync(), chunk.StatusCode, Reason);
        }

        using var openAi = await tenant.PostAsync("/v1/embeddings", CatalogServer.Json(new { model = "eol-embed", input = "hello" }));
        Assert.Equal(HttpStatusCode.Gone, openAi.StatusCode);
        Assert.Equal(Reason, (string)JsonNode.Parse(await openAi.Content.ReadAsStringAsync())!["error"]!["message"]!);

        var listed = JsonNode.Parse(await tenant.GetStringAsync(new Uri($"/api/catalog/{CatalogId}", UriKind.Relative)))!;
        Assert.True((bool)listed["end_of_life"]!);
        Assert.False((bool)listed["eol_warning"]!);
    }

    [Fact]
    public async Task The_catalog_lists_eol_state_and_backends_and_validates_what_the_operator_assigns()
    {
        using var tenant = fixture.Tenant();
        var catalog = JsonNode.Parse(await tenant.GetStringAsync(new Uri("/api/catalog", UriKind.Relative)))!.AsArray();
        var byId = catalog.ToDictionary(r => (string)r!["id"]!, r => r!);
        Assert.Equal(27, byId.Count);

        // Today is 2026-11-22 on the test machine's clock: 4.5 opus ends in 2 days (warned), 3.7 sonnet has ended, gpt-4.1 is far off.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var opus = byId["anthropic-claude-4.5-opus"];
        var opusDays = new DateOnly(2026, 11, 24).DayNumber - today.DayNumber;
        Assert.Equal(opusDays, (int)opus["days_until_eol"]!);
        Assert.Equal(opusDays is > 0 and <= 90, (bool)opus["eol_warning"]!);
        Assert.Equal(opusDays <= 0, (bool)opus["end_of_life"]!);
        Assert.Equal(today >= new DateOnly(2026, 4, 28), (bool)byId["anthropic-claude-3.7-sonnet"]["end_of_life"]!);
        Assert.Equal("2027-04-11", (string)byId["openai-gpt-4.1"]["eol_date"]!);
        Assert.Equal("Legacy (EOL Soon)", (string)byId["anthropic-claude-3.7-sonnet"]["release_status"]!);

        // Built-in rows run on themselves until an operator says otherwise; others have no backend.
        Assert.Equal("embedded", (string)byId[".demo-chat"]["backend"]!["kind"]!);
        Assert.False((bool)byId[".demo-chat"]["backend"]!["assigned"]!);
        Assert.Null(byId["jina-reranker-v3"]["backend"]);

        using var op = fixture.Operator();
        async Task<(HttpStatusCode Status, string Body)> PutAsync(string id, object body)
        {
            using var response = await op.PutAsJsonAsync($"/api/catalog/{id}/backend", body);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var wrongTask = await PutAsync("jina-reranker-v2-base-multilingual", new { embedded_model_id = CatalogServer.Bert });
        Assert.Equal(HttpStatusCode.BadRequest, wrongTask.Status);
        Assert.Contains("embedded_model_id", wrongTask.Body, StringComparison.Ordinal);
        Assert.Contains("rerank", wrongTask.Body, StringComparison.Ordinal);

        var unknownService = await PutAsync("jina-reranker-v2-base-multilingual", new { service = "no-such-service", service_settings = new { } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownService.Status);
        Assert.Contains("Unknown service [no-such-service]", unknownService.Body, StringComparison.Ordinal);

        var itself = await PutAsync("jina-reranker-v2-base-multilingual", new { service = "elastic", service_settings = new { model_id = ".starter-rerank" } });
        Assert.Equal(HttpStatusCode.BadRequest, itself.Status);

        var missing = await PutAsync("jina-reranker-v2-base-multilingual", new { service = "elasticsearch", service_settings = new { num_threads = 1 } });
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Contains("[service_settings] does not contain the required setting [model_id]", missing.Body, StringComparison.Ordinal);

        var notFound = await PutAsync("no-such-catalog-model", new { embedded_model_id = CatalogServer.Bert });
        Assert.Equal(HttpStatusCode.NotFound, notFound.Status);

        // Removing a backend: new endpoints are refused again; the audit trail has both actions.
        await fixture.AssignAsync("jina-reranker-v2-base-multilingual", new { embedded_model_id = "catalog-cross-encoder" });
        using (var removed = await op.DeleteAsync(new Uri("/api/catalog/jina-reranker-v2-base-multilingual/backend", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        using (var refused = await CatalogServer.CreateManagedEndpointAsync(tenant, "rerank", "removed-backend", "jina-reranker-v2-base-multilingual"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var audit = await op.GetStringAsync(new Uri("/api/audit?resource_type=catalog_model&resource_id=jina-reranker-v2-base-multilingual", UriKind.Relative));
        Assert.Contains("catalog.backend.set", audit, StringComparison.Ordinal);
        Assert.Contains("catalog.backend.remove", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_backend_through_a_registered_service_serves_tenants_on_the_operators_own_connection()
    {
        // The elasticsearch service as the upstream: the operator's own deployment of a store model, shared by every tenant.
        const string CatalogId = "jina-embeddings-v3";
        var row = await fixture.AssignAsync(CatalogId, new
        {
            service = "elasticsearch",
            service_settings = new { model_id = CatalogServer.Bert, num_allocations = 1, num_threads = 1 },
        });
        Assert.Equal("upstream", (string)row["backend"]!["kind"]!);
        Assert.Equal("elasticsearch", (string)row["backend"]!["service"]!);
        Assert.Equal(CatalogServer.Bert, (string)row["backend"]!["service_settings"]!["model_id"]!);

        using var tenant = fixture.Tenant();
        var tenantView = JsonNode.Parse(await tenant.GetStringAsync(new Uri($"/api/catalog/{CatalogId}", UriKind.Relative)))!["backend"]!;
        Assert.Equal("elasticsearch", (string)tenantView["service"]!);
        Assert.Null(tenantView["service_settings"]);

        using (var created = await CatalogServer.CreateManagedEndpointAsync(tenant, "text_embedding", "upstream-embed", CatalogId))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(await created.Content.ReadAsStringAsync()));
        }

        using var embedded = await tenant.PostAsync("/v1/embeddings", CatalogServer.Json(new { model = "upstream-embed", input = "hello world" }));
        var body = await embedded.Content.ReadAsStringAsync();
        Assert.True(embedded.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
        Assert.Equal(fixture.Dimensions, JsonNode.Parse(body)!["data"]![0]!["embedding"]!.AsArray().Count);

        // The deployment is the installation's (the catalog connection's): the tenant's statistics show no deployment of its own.
        var stats = JsonNode.Parse(await tenant.GetStringAsync(new Uri($"/_ml/trained_models/{CatalogServer.Bert}/_stats", UriKind.Relative)))!;
        Assert.DoesNotContain(stats["trained_model_stats"]!.AsArray(), s => (string?)s!["deployment_stats"]?["deployment_id"] == "upstream-embed");
        Assert.DoesNotContain(stats["trained_model_stats"]!.AsArray(), s => ((string?)s!["deployment_stats"]?["deployment_id"])?.Contains("catalog.", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task An_upstream_openai_backend_serves_tenants_with_the_operators_key_which_no_response_or_log_shows()
    {
        const string EmbeddingId = "google-gemini-embedding-001";
        const string ChatId = "openai-gpt-5.2";
        await using var provider = await FakeOpenAiServer.StartAsync();
        provider.ApiKey = "sk-operator-catalog-secret-4242";
        var answers = new List<string>();
        using var op = fixture.Operator();
        async Task<HttpResponseMessage> AssignOpenAiAsync(string id, string key, string model) =>
            await op.PutAsJsonAsync($"/api/catalog/{id}/backend", new
            {
                service = "openai",
                service_settings = new { api_key = key, model_id = model, url = $"{provider.BaseUrl}/v1" },
            });

        // A key the provider refuses stores nothing: the probe fails with a 400 naming the settings.
        using (var refused = await AssignOpenAiAsync(EmbeddingId, "sk-wrong-key-0000", "text-embedding-3-small"))
        {
            var body = await refused.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, fixture.Explain(body));
            Assert.Contains("service_settings", body, StringComparison.Ordinal);
            Assert.Null(JsonNode.Parse(await op.GetStringAsync(new Uri($"/api/catalog/{EmbeddingId}", UriKind.Relative)))!["backend"]);
        }

        foreach (var (id, model) in new[] { (EmbeddingId, "text-embedding-3-small"), (ChatId, "gpt-5.2") })
        {
            using var assigned = await AssignOpenAiAsync(id, provider.ApiKey, model);
            var body = await assigned.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(assigned.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            var backend = JsonNode.Parse(body)!["backend"]!;
            Assert.Equal("openai", (string)backend["service"]!);
            Assert.Equal(["api_key"], backend["secret_fields"]!.AsArray().Select(f => (string)f!));
            Assert.Null(backend["service_settings"]!["api_key"]);
        }

        await fixture.SetPriceAsync(EmbeddingId, input: 1000m, output: 0m);
        await fixture.SetPriceAsync(ChatId, input: 2000m, output: 4000m);

        using var tenant = fixture.Tenant();
        foreach (var (taskType, id, endpoint) in new[] { ("text_embedding", EmbeddingId, "oa-managed-embed"), ("chat_completion", ChatId, "oa-managed-chat") })
        {
            using var created = await CatalogServer.CreateManagedEndpointAsync(tenant, taskType, endpoint, id);
            var body = await created.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(created.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
        }

        provider.Clear();
        using (var embedded = await tenant.PostAsync("/_inference/text_embedding/oa-managed-embed", CatalogServer.Json(new { input = new[] { "hello world" } })))
        {
            var body = await embedded.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Equal(FakeOpenAiServer.EmbeddingOf("hello world", provider.Dimensions), JsonNode.Parse(body)!["text_embedding"]![0]!["embedding"]!.AsArray().Select(v => (float)v!));

            // Usage is the provider's, billed at the catalog id's price.
            Assert.Equal(FakeOpenAiServer.EmbeddingTokens(["hello world"]), long.Parse(embedded.Headers.GetValues("x-webconsole-input-tokens").Single(), CultureInfo.InvariantCulture));
            AssertBilledAt(embedded, inputPerToken: 0.001m, outputPerToken: 0m);
        }

        var messages = new[] { new { role = "user", content = "Tell me about foxes" } };
        using (var chat = await tenant.PostAsync("/v1/chat/completions", CatalogServer.Json(new { model = "oa-managed-chat", messages })))
        {
            var body = await chat.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Equal(FakeOpenAiServer.AnswerTo("Tell me about foxes"), (string)JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]!);
            AssertBilledAt(chat, inputPerToken: 0.002m, outputPerToken: 0.004m);
        }

        using (var stream = await tenant.PostAsync("/_inference/chat_completion/oa-managed-chat/_stream", CatalogServer.Json(new { messages })))
        {
            var body = await stream.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(stream.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
            Assert.Contains("data: [DONE]", body, StringComparison.Ordinal);
        }

        // The provider saw the operator's key on every call, and the model the operator configured.
        Assert.Equal(3, provider.Requests.Count);
        Assert.All(provider.Requests, r => Assert.Equal($"Bearer {provider.ApiKey}", r.Header("authorization")));
        Assert.Equal("gpt-5.2", (string)provider.Requests[^1].Json!["model"]!);

        // Assigned again without the key (the same service): the stored key is kept.
        using (var kept = await op.PutAsJsonAsync($"/api/catalog/{ChatId}/backend", new
        {
            service = "openai",
            service_settings = new { model_id = "gpt-5.2-mini", url = $"{provider.BaseUrl}/v1" },
        }))
        {
            var body = await kept.Content.ReadAsStringAsync();
            answers.Add(body);
            Assert.True(kept.StatusCode == HttpStatusCode.OK, fixture.Explain(body));
        }

        using (var again = await tenant.PostAsync("/v1/chat/completions", CatalogServer.Json(new { model = "oa-managed-chat", messages })))
        {
            answers.Add(await again.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal("gpt-5.2-mini", (string)provider.Requests[^1].Json!["model"]!);
        }

        foreach (var path in new[] { "/api/catalog", $"/api/catalog/{ChatId}", "/api/audit?resource_type=catalog_model", "/_inference/_all" })
        {
            answers.Add(await op.GetStringAsync(new Uri(path, UriKind.Relative)));
            using var asTenant = await tenant.GetAsync(new Uri(path, UriKind.Relative));
            answers.Add(await asTenant.Content.ReadAsStringAsync());
        }

        Assert.All(answers, a => Assert.DoesNotContain(provider.ApiKey, a, StringComparison.Ordinal));
        Assert.DoesNotContain(provider.ApiKey, fixture.Server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-wrong-key-0000", fixture.Server.Log, StringComparison.Ordinal);
        await using var db = fixture.Database();
        Assert.DoesNotContain(provider.ApiKey, (await db.CatalogBackends.SingleAsync(b => b.CatalogModelId == ChatId)).UpstreamSecretSettings!, StringComparison.Ordinal);
    }

    private static decimal AssertBilledAt(HttpResponseMessage response, decimal inputPerToken, decimal outputPerToken)
    {
        static long Header(HttpResponseMessage r, string name) => long.Parse(r.Headers.GetValues(name).Single(), CultureInfo.InvariantCulture);
        var input = Header(response, "x-webconsole-input-tokens");
        var output = Header(response, "x-webconsole-output-tokens");
        var cost = decimal.Parse(response.Headers.GetValues("x-webconsole-cost").Single(), NumberStyles.Number, CultureInfo.InvariantCulture);
        Assert.True(input > 0);
        Assert.Equal((input * inputPerToken) + (output * outputPerToken), cost);
        return cost;
    }

    private static void AssertEndOfLife(string body, HttpStatusCode status, string reason)
    {
        Assert.True(status == HttpStatusCode.Gone, $"{(int)status}: {body}");
        var error = JsonNode.Parse(body)!;
        Assert.Equal(410, (int)error["status"]!);
        Assert.Equal("model_end_of_life_exception", (string)error["error"]!["type"]!);
        Assert.Equal(reason, (string)error["error"]!["reason"]!);
        Assert.Equal("model_end_of_life_exception", (string)error["error"]!["root_cause"]![0]!["type"]!);
    }

    private static async Task<JsonNode> UsageGroupAsync(HttpClient tenant, string modelId, int requests)
    {
        // The ledger writes in the background: wait for the requests to land.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var summary = JsonNode.Parse(await tenant.GetStringAsync(new Uri("/api/usage/summary?group_by=model", UriKind.Relative)))!;
            var group = summary["groups"]!.AsArray().FirstOrDefault(g => (string?)g!["key"] == modelId);
            if (group is not null && (long)group["requests"]! >= requests)
            {
                Assert.Equal(requests, (long)group["requests"]!);
                return group;
            }

            Assert.True(DateTime.UtcNow < deadline, $"usage of {modelId} did not reach {requests} requests: {summary.ToJsonString()}");
            await Task.Delay(200);
        }
    }
}
