using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace WebConsole.E2E.RateLimiting;

/// <summary>
/// Inbound rate limits on a real server: policies set through <c>/api/rate-limits</c> govern real requests on
/// <c>/_inference</c> and <c>/v1</c> at once, on a sliding window of requests and of ingest and search tokens.
/// </summary>
public sealed partial class RateLimitTests(RateLimitServer fixture) : IClassFixture<RateLimitServer>
{
    // About 60 words: a few dozen tokens for the generated BERT's tokenizer, well under its maximum length.
    private const string LongText =
        "Elasticsearch is a distributed search and analytics engine built on Apache Lucene. It stores documents, indexes " +
        "every field and answers full text, structured and vector queries in near real time. Inference endpoints turn text " +
        "into dense or sparse embeddings, rerank candidate documents and generate answers, so that search applications " +
        "can combine lexical and semantic retrieval in one request without running their own model servers.";

    [Fact]
    public async Task Two_hundred_concurrent_requests_against_a_limit_of_100_per_minute_admit_exactly_100()
    {
        using var client = fixture.Client();
        await RateLimitServer.SetPolicyAsync(client, new { scope = "organization", model_selector = "model:rl-burst-model", requests_per_minute = 100 });

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync("/_inference/text_embedding/rl-burst", new { input = $"request {i}" });
            return (response.StatusCode, Headers: Snapshot(response), Body: await response.Content.ReadAsStringAsync());
        }));

        var admitted = answers.Where(a => a.StatusCode == HttpStatusCode.OK).ToList();
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(admitted.Count == 100 && refused.Count == 100,
            $"{admitted.Count} admitted, {refused.Count} refused; others: {string.Join("; ", answers.Where(a => a.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)).Select(a => $"{(int)a.StatusCode} {a.Body}").Take(3))}\n{fixture.Tail()}");

        // Every admitted request saw its own place in the window: 99 left after the first, none after the hundredth.
        Assert.All(admitted, a => Assert.Equal("100", a.Headers["x-ratelimit-limit-requests"]));
        Assert.Equal(Enumerable.Range(0, 100), admitted.Select(a => int.Parse(a.Headers["x-ratelimit-remaining-requests"], CultureInfo.InvariantCulture)).Order());

        foreach (var (_, headers, body) in refused)
        {
            using var json = JsonDocument.Parse(body);
            Assert.Equal(429, json.RootElement.GetProperty("status").GetInt32());
            var error = json.RootElement.GetProperty("error");
            Assert.Equal("status_exception", error.GetProperty("type").GetString());
            Assert.Contains("100 requests per minute", error.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Equal("status_exception", error.GetProperty("root_cause")[0].GetProperty("type").GetString());
            Assert.InRange(int.Parse(headers["Retry-After"], CultureInfo.InvariantCulture), 1, 60);
            Assert.Equal("100", headers["x-ratelimit-limit-requests"]);
            Assert.Equal("0", headers["x-ratelimit-remaining-requests"]);
            Assert.Matches("^[0-9.]+(ms|s)$|^1m0s$", headers["x-ratelimit-reset-requests"]);
        }

        // The OpenAI surface shares the window and answers in OpenAI's envelope.
        using var openAi = await client.PostAsJsonAsync("/v1/embeddings", new { model = "rl-burst", input = "one more" });
        var openAiBody = await openAi.Content.ReadAsStringAsync();
        Assert.True(openAi.StatusCode == HttpStatusCode.TooManyRequests, openAiBody);
        using (var json = JsonDocument.Parse(openAiBody))
        {
            var error = json.RootElement.GetProperty("error");
            Assert.Equal("rate_limit_error", error.GetProperty("type").GetString());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
            Assert.Contains("requests per minute", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.NotNull(openAi.Headers.RetryAfter?.Delta);
        Assert.Equal("0", Header(openAi, "x-ratelimit-remaining-requests"));

        // The status route reports the same window.
        var status = await client.GetFromJsonAsync<JsonElement>("/api/rate-limits/_status?inference_id=rl-burst");
        Assert.Equal("organization", status.GetProperty("policy").GetProperty("scope").GetString());
        Assert.Equal(100, status.GetProperty("requests").GetProperty("used").GetInt64());
        Assert.Equal(0, status.GetProperty("requests").GetProperty("remaining").GetInt64());
    }

    [Fact]
    public async Task The_token_limit_trips_before_the_request_limit_for_long_inputs()
    {
        using var client = fixture.Client();
        await RateLimitServer.SetPolicyAsync(client, new
        {
            scope = "organization", model_selector = "model:rl-tokens-model", requests_per_minute = 100, tokens_per_minute_search = 1000,
        });
        var input = new[] { LongText, LongText, LongText };

        // Tokens are counted with the endpoint's tokenizer before admission: the limiter counted exactly the usage reported.
        using var first = await client.PostAsJsonAsync("/_inference/text_embedding/rl-tokens", new { input });
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        var tokens = long.Parse(Header(first, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture);
        Assert.InRange(tokens, 60, 333);
        Assert.Equal("1000", Header(first, "x-ratelimit-limit-tokens"));
        Assert.Equal((1000 - tokens).ToString(CultureInfo.InvariantCulture), Header(first, "x-ratelimit-remaining-tokens"));

        var admitted = 1;
        HttpResponseMessage refused;
        while (true)
        {
            var response = await client.PostAsJsonAsync("/_inference/text_embedding/rl-tokens", new { input });
            if (response.StatusCode != HttpStatusCode.OK)
            {
                refused = response;
                break;
            }

            admitted++;
            response.Dispose();
            Assert.True(admitted < 100, "the token limit never tripped");
        }

        using (refused)
        {
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.TooManyRequests, body);
            Assert.Equal(1000 / tokens, admitted);
            Assert.Contains("1000 search tokens per minute", body, StringComparison.Ordinal);
            Assert.Equal((100 - admitted).ToString(CultureInfo.InvariantCulture), Header(refused, "x-ratelimit-remaining-requests"));
            Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        }

        // A request larger than the whole token limit can never be admitted: no Retry-After.
        using var huge = await client.PostAsJsonAsync("/_inference/text_embedding/rl-tokens", new { input = Enumerable.Repeat(LongText, 40).ToArray() });
        Assert.Equal(HttpStatusCode.TooManyRequests, huge.StatusCode);
        Assert.Null(huge.Headers.RetryAfter);
        Assert.Contains("never", await huge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_and_search_token_budgets_are_separate()
    {
        using var client = fixture.Client();
        await RateLimitServer.SetPolicyAsync(client, new
        {
            scope = "organization", model_selector = "model:rl-budgets-model", requests_per_minute = 1000,
            tokens_per_minute_ingest = 600, tokens_per_minute_search = 600,
        });
        var input = new[] { LongText, LongText };

        var searches = await UntilRefusedAsync(client, "rl-budgets", input, "search");
        Assert.True(searches.Admitted >= 1, searches.Refusal);
        Assert.Contains("search tokens per minute", searches.Refusal, StringComparison.Ordinal);

        // The search budget is spent; ingest requests still run against their own.
        var ingests = await UntilRefusedAsync(client, "rl-budgets", input, "ingest");
        Assert.Equal(searches.Admitted, ingests.Admitted);
        Assert.Contains("ingest tokens per minute", ingests.Refusal, StringComparison.Ordinal);

        // A request without input_type counts as search, whose budget is still spent.
        using var unspecified = await client.PostAsJsonAsync("/_inference/text_embedding/rl-budgets", new { input });
        Assert.Equal(HttpStatusCode.TooManyRequests, unspecified.StatusCode);
        Assert.Contains("search tokens per minute", await unspecified.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var status = await client.GetFromJsonAsync<JsonElement>("/api/rate-limits/_status?inference_id=rl-budgets");
        Assert.InRange(status.GetProperty("tokens_ingest").GetProperty("used").GetInt64(), 600 - (600 / ingests.Admitted), 600);
        Assert.InRange(status.GetProperty("tokens_search").GetProperty("used").GetInt64(), 600 - (600 / searches.Admitted), 600);
        Assert.Equal(searches.Admitted + ingests.Admitted, status.GetProperty("requests").GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task A_changed_limit_applies_to_the_next_request_without_a_restart()
    {
        using var client = fixture.Client();
        var policy = await RateLimitServer.SetPolicyAsync(client, new { scope = "organization", model_selector = "model:rl-change-model", requests_per_minute = 2 });
        Assert.Equal(HttpStatusCode.OK, await EmbedStatusAsync(client, "rl-change"));
        Assert.Equal(HttpStatusCode.OK, await EmbedStatusAsync(client, "rl-change"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await EmbedStatusAsync(client, "rl-change"));

        // Raised to 5: the window holds 2, so 3 more fit.
        var raised = await RateLimitServer.SetPolicyAsync(client, new { scope = "organization", model_selector = "model:rl-change-model", requests_per_minute = 5 });
        Assert.Equal(policy.GetProperty("id").GetGuid(), raised.GetProperty("id").GetGuid());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await EmbedStatusAsync(client, "rl-change"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await EmbedStatusAsync(client, "rl-change"));

        // Deleted: the installation's default for text embeddings (6,000 requests per minute) applies again.
        using (var deleted = await client.DeleteAsync($"/api/rate-limits/{policy.GetProperty("id").GetGuid()}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var after = await client.PostAsJsonAsync("/_inference/text_embedding/rl-change", new { input = "again" });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("6000", Header(after, "x-ratelimit-limit-requests"));
        Assert.Equal("600000", Header(after, "x-ratelimit-limit-tokens"));
    }

    [Fact]
    public async Task A_key_override_beats_the_team_override_which_beats_the_organization_policy()
    {
        using var admin = fixture.Client();
        var me = await admin.GetFromJsonAsync<JsonElement>("/api/me");
        var team = me.GetProperty("team_id").GetString()!;
        var (keyId, encoded) = await RateLimitServer.CreateKeyAsync(admin, "override-key");
        using var keyClient = fixture.Client(encoded);

        await RateLimitServer.SetPolicyAsync(admin, new { scope = "organization", model_selector = "model:rl-override-model", requests_per_minute = 1 });
        var teamPolicy = await RateLimitServer.SetPolicyAsync(admin, new { scope = "team", scope_id = team, model_selector = "model:rl-override-model", requests_per_minute = 3 });
        var keyPolicy = await RateLimitServer.SetPolicyAsync(admin, new { scope = "api_key", scope_id = keyId, model_selector = "model:rl-override-model", requests_per_minute = 5 });
        Assert.Equal("team", teamPolicy.GetProperty("scope").GetString());

        // The bootstrap key acts for the team: the team's policy beats the organization's.
        Assert.Equal(3, await AdmittedUntilRefusedAsync(admin, "rl-override", expectedLimit: "3"));

        // The new key (same team) has its own policy and window.
        Assert.Equal(5, await AdmittedUntilRefusedAsync(keyClient, "rl-override", expectedLimit: "5"));

        // Without its override the key falls back to the team's policy, whose window is full.
        using (var deleted = await admin.DeleteAsync($"/api/rate-limits/{keyPolicy.GetProperty("id").GetGuid()}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var refused = await keyClient.PostAsJsonAsync("/_inference/text_embedding/rl-override", new { input = "x" });
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("3", Header(refused, "x-ratelimit-limit-requests"));

        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/rate-limits");
        Assert.Contains(listed.EnumerateArray(), p => p.GetProperty("scope").GetString() == "team" && p.GetProperty("scope_id").GetString() == team);
        Assert.DoesNotContain(listed.EnumerateArray(), p => p.GetProperty("scope").GetString() == "api_key" && p.GetProperty("scope_id").GetString() == keyId);
    }

    private static async Task<int> AdmittedUntilRefusedAsync(HttpClient client, string model, string expectedLimit)
    {
        for (var admitted = 0; admitted < 50; admitted++)
        {
            using var response = await client.PostAsJsonAsync($"/_inference/text_embedding/{model}", new { input = "x" });
            Assert.Equal(expectedLimit, Header(response, "x-ratelimit-limit-requests"));
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
                return admitted;
            }
        }

        throw new InvalidOperationException("never refused");
    }

    private static async Task<(int Admitted, string Refusal)> UntilRefusedAsync(HttpClient client, string model, string[] input, string inputType)
    {
        for (var admitted = 0; admitted < 50; admitted++)
        {
            using var response = await client.PostAsJsonAsync($"/_inference/text_embedding/{model}", new { input, input_type = inputType });
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, body);
                Assert.Equal("600", Header(response, "x-ratelimit-limit-tokens"));
                return (admitted, body);
            }
        }

        throw new InvalidOperationException($"{inputType} requests were never refused");
    }

    private static async Task<HttpStatusCode> EmbedStatusAsync(HttpClient client, string model)
    {
        using var response = await client.PostAsJsonAsync($"/_inference/text_embedding/{model}", new { input = "hello" });
        return response.StatusCode;
    }

    private static Dictionary<string, string> Snapshot(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : throw new Xunit.Sdk.XunitException($"no {name} header");
}
