using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using WebConsole.E2E.Infrastructure;
using WebConsole.E2E.Security;

namespace WebConsole.E2E.Reliability;

/// <summary>A server of its own, so what it stores before and after hostile requests is only what these tests did.</summary>
public sealed class HostileInputServer : IAsyncLifetime
{
    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await WebConsoleServer.StartAsync(ServerFixture.Settings.ToDictionary());

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// Hostile input on every route the application has (read from its own route table, so routes added later are covered
/// without editing this class): malformed JSON, invalid UTF-8, deep nesting, wrong types, huge and negative numbers,
/// control characters, bodies over the limit, path traversal and script in ids, ten thousand inputs and a million
/// characters of prompt. Each answer is a 4xx in the shape of its surface (Elasticsearch's envelope, OpenAI's, or
/// ProblemDetails), the server keeps serving, and no table changes.
/// </summary>
public sealed class HostileInputTests(HostileInputServer fixture) : IClassFixture<HostileInputServer>
{
    private static readonly Lazy<IReadOnlyList<RouteInfo>> Routes = new(RouteTable.Load);

    // Bodies every JSON route must refuse, named for the failure messages.
    private static readonly (string Name, byte[] Body)[] HostileBodies =
    [
        ("malformed JSON", "{\"input\": [\"a\", "u8.ToArray()),
        ("invalid UTF-8", [.. "{\"input\":\"ab"u8, 0xFF, 0xFE, 0xC3, .. "\",\"name\":\"x"u8, 0x80, .. "\"}"u8]),
        ("deep nesting", Encoding.UTF8.GetBytes("{\"input\":" + new string('[', 5000) + new string(']', 5000) + "}")),
        ("a JSON array", "[1, 2, 3]"u8.ToArray()),
        ("a JSON string", "\"hello\""u8.ToArray()),
        ("wrong types", """{"input":{"a":1},"query":[1],"service":7,"service_settings":"x","task_settings":[],"name":{"x":true},"role_descriptors":5,"messages":"hi","model":12,"top_n":"many"}"""u8.ToArray()),
        ("huge and negative numbers", """{"input":["a"],"query":"q","top_n":-5,"max_completion_tokens":1e400,"temperature":-1e308,"num_allocations":99999999999999999999,"expiration":-1}"""u8.ToArray()),
        ("control characters", Encoding.UTF8.GetBytes("{\"input\":\"a\\u0000b\\u0007\",\"service\":\"\\u0000\",\"name\":\"\\u001b[31m\"}")),
    ];

    private static readonly string[] HostileIds =
    [
        "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", new string('a', 5000), "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "x%20y", "%E2%80%AE%E2%80%8B",
    ];

    [Fact]
    public async Task Every_json_route_refuses_hostile_bodies_with_a_contract_shaped_4xx_and_changes_nothing()
    {
        var routes = Routes.Value.Where(r => !r.IsPortalPage && !r.IsPublic && r.Method is "POST" or "PUT" or "PATCH"
            && r.ContentType.Contains("json", StringComparison.Ordinal) && !IsFramework(r)).ToList();
        Assert.Contains(routes, r => r.Pattern.StartsWith("/_inference", StringComparison.Ordinal));
        Assert.Contains(routes, r => r.Pattern.StartsWith("/v1", StringComparison.Ordinal));
        Assert.Contains(routes, r => r.Pattern.StartsWith("/_security", StringComparison.Ordinal));
        Assert.Contains(routes, r => r.Pattern.StartsWith("/api", StringComparison.Ordinal));

        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);
        var failures = new List<string>();
        var accepted = new List<string>();
        var refused = 0;
        foreach (var route in routes)
        {
            foreach (var (name, body) in HostileBodies)
            {
                using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.SamplePath) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                if (status is < 400 or >= 500)
                {
                    // A route that takes no body (an action on an id) may ignore it: that is only fine when it is not a 5xx
                    // and the route's answer does not depend on the body (checked by the snapshot below).
                    (status >= 500 ? failures : accepted).Add($"{route} with {name}: {status} {Trim(text)}");
                    continue;
                }

                refused++;
                if (ShapeProblem(route.Pattern, text) is { } problem)
                {
                    failures.Add($"{route} with {name}: {status} is not contract-shaped ({problem}): {Trim(text)}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(refused >= routes.Count * HostileBodies.Length * 3 / 4, $"only {refused} of {routes.Count * HostileBodies.Length} hostile bodies were refused");
        var after = await SnapshotAsync(client);
        Assert.True(before == after, $"stored state changed:\n{before}\n---\n{after}\naccepted:\n{string.Join("\n", accepted)}");
        await AssertHealthyAsync(client);
    }

    [Fact]
    public async Task Hostile_ids_in_paths_are_refused_or_not_found_in_the_surfaces_shape_and_reach_no_file()
    {
        var routes = Routes.Value.Where(r => !r.IsPortalPage && !r.IsPublic && r.Pattern.Contains('{', StringComparison.Ordinal) && !IsFramework(r)).ToList();
        Assert.NotEmpty(routes);
        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);
        var failures = new List<string>();
        foreach (var route in routes)
        {
            foreach (var id in HostileIds)
            {
                var path = WithIds(route.Pattern, id);
                using var request = new HttpRequestMessage(new HttpMethod(route.Method), path);
                if (route.Method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                if (status >= 500 || (status is >= 200 and < 300 && text.Contains("root:", StringComparison.Ordinal)))
                {
                    failures.Add($"{route.Method} {path[..Math.Min(path.Length, 120)]}: {status} {Trim(text)}");
                }
                else if (status >= 400 && response.Content.Headers.ContentLength != 0 && ShapeProblem(route.Pattern, text) is { } problem)
                {
                    failures.Add($"{route.Method} {path[..Math.Min(path.Length, 120)]}: {status} is not contract-shaped ({problem}): {Trim(text)}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(before, await SnapshotAsync(client));
        await AssertHealthyAsync(client);
    }

    [Theory]
    [InlineData("/_inference/text_embedding/.starter-embedding-elasticsearch", 17 * 1024 * 1024)]
    [InlineData("/v1/embeddings", 17 * 1024 * 1024)]
    [InlineData("/_security/api_key", 2 * 1024 * 1024)]
    [InlineData("/api/budgets", 2 * 1024 * 1024)]
    public async Task A_body_over_the_limit_is_a_413_in_the_surfaces_shape(string path, int size)
    {
        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);
        var body = new byte[size];
        "{\"input\":\""u8.CopyTo(body);
        body.AsSpan(10, size - 12).Fill((byte)'a');
        "\"}"u8.CopyTo(body.AsSpan(size - 2));
        using var request = new HttpRequestMessage(path.StartsWith("/api", StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        // As curl does for large bodies: the server's refusal arrives before the body is sent (without it the server
        // answers 413 and closes the connection while the client is still writing).
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{path}: {(int)response.StatusCode} {Trim(text)}");
        Assert.Null(ShapeProblem(path, text));
        Assert.Equal(before, await SnapshotAsync(client));
        await AssertHealthyAsync(client);
    }

    [Fact]
    public async Task Ten_thousand_inputs_and_a_million_character_prompt_are_refused_and_bill_nothing()
    {
        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);

        var inputs = JsonSerializer.Serialize(new { input = Enumerable.Repeat("ten thousand inputs", 10_000) });
        using (var response = await client.PostAsync("/_inference/text_embedding/.starter-embedding-elasticsearch", new StringContent(inputs, Encoding.UTF8, "application/json")))
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, Trim(text));
            Assert.Contains("Too many inputs [10000]", text, StringComparison.Ordinal);
        }

        var prompt = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 1_000_000 / 45 + 1))[..1_000_000];
        foreach (var (path, body) in new[]
        {
            ("/_inference/chat_completion/.chat-elastic/_stream", (object)new { messages = new[] { new { role = "user", content = prompt } } }),
            ("/v1/chat/completions", new { model = ".chat-elastic", messages = new[] { new { role = "user", content = prompt } } }),
            ("/_inference/completion/.chat-elastic", new { input = prompt }),
        })
        {
            using var response = await client.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is 400 or 404 or 413, $"{path}: {(int)response.StatusCode} {Trim(text)}");
            Assert.Null(ShapeProblem(path, text));
        }

        Assert.Equal(before, await SnapshotAsync(client));
        await AssertHealthyAsync(client);
    }

    [Fact]
    public async Task Portal_and_api_answers_carry_the_security_headers()
    {
        using var client = fixture.Server.CreateClient();
        foreach (var path in new[] { "/account/signin", "/healthz", "/_inference/_all" })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
            var csp = Header(response, "Content-Security-Policy");
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        }
    }

    private static bool IsFramework(RouteInfo route) =>
        route.Pattern.StartsWith("/_blazor", StringComparison.Ordinal) || route.Pattern.StartsWith("/account", StringComparison.Ordinal)
        || route.Pattern.StartsWith("/hubs", StringComparison.Ordinal) || route.Pattern.Contains("{**", StringComparison.Ordinal);

    private static string WithIds(string pattern, string id) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, @"\{[^}]+\}", match =>
            match.Value.Contains("task_type", StringComparison.OrdinalIgnoreCase) || match.Value.Contains("taskType", StringComparison.Ordinal) ? "text_embedding" : id);

    /// <summary>Null when <paramref name="text"/> is an error in the shape of the route's surface, else what is wrong.</summary>
    private static string? ShapeProblem(string pattern, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return "not JSON";
        }

        if (pattern.StartsWith("/v1", StringComparison.Ordinal))
        {
            return node?["error"]?["message"] is JsonValue && node["error"]?["type"] is JsonValue ? null : "not an OpenAI error";
        }

        if (pattern.StartsWith("/api", StringComparison.Ordinal))
        {
            return node?["status"] is JsonValue && node["title"] is JsonValue ? null : "not ProblemDetails";
        }

        return node?["error"]?["type"] is JsonValue && node["error"]?["reason"] is JsonValue && node["status"] is JsonValue ? null : "not an Elasticsearch error";
    }

    /// <summary>Row counts of every table and the endpoints list: what a refused request must not change.</summary>
    private async Task<string> SnapshotAsync(HttpClient client)
    {
        // Read first: listing endpoints creates the reserved ones on first use.
        var endpoints = await client.GetStringAsync("/_inference/_all");
        var builder = new StringBuilder();
        var database = Path.Combine(fixture.Server.DataDirectory, "webconsole.db");
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            var tables = new List<string>();
            await using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('RateLimitCounters') ORDER BY name";
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }

            Assert.NotEmpty(tables);
            foreach (var table in tables)
            {
                await using var count = connection.CreateCommand();
                count.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
                builder.Append(table).Append('=').Append(await count.ExecuteScalarAsync()).Append('\n');
            }
        }

        builder.Append(endpoints);
        return builder.ToString();
    }

    private static async Task AssertHealthyAsync(HttpClient client)
    {
        using var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var embed = await client.PostAsync("/_inference/text_embedding/.starter-embedding-elasticsearch",
            new StringContent("""{"input":"still serving"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : string.Empty;

    private static string Trim(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
