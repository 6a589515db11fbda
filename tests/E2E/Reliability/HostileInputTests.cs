using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Data.Sqlite;
using WebConsole.E2E.Infrastructure;
using WebConsole.E2E.Playground;
using WebConsole.E2E.Security;
using WebConsole.TestModels.Decoder;
using WebConsole.Web.Apis.Playground;

namespace WebConsole.E2E.Reliability;

/// <summary>
/// A server of its own, so what it stores before and after hostile requests is only what these tests did; with one chat
/// endpoint on a generated decoder (<see cref="Chat"/>, loaded on first use) for the hub's requests to reach validation.
/// </summary>
public sealed class HostileInputServer : IAsyncLifetime
{
    public const string Chat = "hostile-chat";

    private const string ChatModel = "hostile-decoder";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{ChatModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Llama3);
        _server = await WebConsoleServer.StartAsync(settings);
        using var client = _server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        using var created = await client.PutAsJsonAsync($"/_inference/chat_completion/{Chat}", new
        {
            service = "elasticsearch",
            service_settings = new
            {
                model_id = ChatModel,
                num_threads = 1,
                adaptive_allocations = new { enabled = true, min_number_of_allocations = 0, max_number_of_allocations = 1 },
            },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
    }

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
    public async Task The_chat_hub_refuses_hostile_arguments_with_typed_4xx_errors_keeps_the_connection_and_changes_nothing()
    {
        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);
        var chat = HostileInputServer.Chat;
        const string Hi = """[{"role":"user","content":"hi"}]""";
        var prompt = JsonSerializer.Serialize(string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", (1_000_000 / 45) + 1))[..1_000_000]);
        var tenThousand = JsonSerializer.Serialize(Enumerable.Repeat(new { role = "user", content = "again" }, 10_000));
        (string Name, string Json, int[] Statuses)[] cases =
        [
            ("wrong types", """{"inferenceId":5,"messages":"hi"}""", [400]),
            ("a JSON array", "[1,2,3]", [400]),
            ("a JSON string", "\"hello\"", [400]),
            ("null", "null", [400]),
            ("an unknown field", $$"""{"inferenceId":"{{chat}}","messages":{{Hi}},"tools":[]}""", [400]),
            ("a number too large", $$"""{"inferenceId":"{{chat}}","messages":{{Hi}},"maxCompletionTokens":1e400}""", [400]),
            ("negative numbers", $$"""{"inferenceId":"{{chat}}","messages":{{Hi}},"maxCompletionTokens":-5}""", [400]),
            ("a huge temperature", $$"""{"inferenceId":"{{chat}}","messages":{{Hi}},"temperature":1e308}""", [400]),
            ("an unknown role", $$"""{"inferenceId":"{{chat}}","messages":[{"role":"root","content":"hi"}]}""", [400]),
            ("no messages", $$"""{"inferenceId":"{{chat}}","messages":[]}""", [400]),
            ("control characters in the id", """{"inferenceId":"\u0000\u001b[31m","messages":[{"role":"user","content":"hi"}]}""", [400, 404]),
            ("path traversal in the id", """{"inferenceId":"../../../etc/passwd","messages":[{"role":"user","content":"hi"}]}""", [400, 404]),
            ("script in the id", """{"inferenceId":"<script>alert(1)</script>","messages":[{"role":"user","content":"hi"}]}""", [400, 404]),
            ("an embedding endpoint", """{"inferenceId":".starter-embedding-elasticsearch","messages":[{"role":"user","content":"hi"}]}""", [400]),
            ("ten thousand messages", $$"""{"inferenceId":"{{chat}}","messages":{{tenThousand}}}""", [400, 413]),
            ("a million-character prompt", $$"""{"inferenceId":"{{chat}}","messages":[{"role":"user","content":{{prompt}}}]}""", [400, 413]),
        ];

        var hub = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey);
        var failures = new List<string>();
        var previous = "connecting";
        foreach (var (name, json, statuses) in cases)
        {
            if (hub.State != HubConnectionState.Connected)
            {
                failures.Add($"the connection closed after {previous}: {string.Join("\n", fixture.Server.Log.Split('\n').Where(l => l.Contains("SignalR", StringComparison.Ordinal) || l.Contains("rror", StringComparison.Ordinal)).TakeLast(6))}");
                await hub.DisposeAsync();
                hub = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey);
            }

            previous = name;
            using var argument = JsonDocument.Parse(json);
            try
            {
                await foreach (var item in hub.StreamAsync<ChatStreamChunk>("StreamChat", argument.RootElement))
                {
                    failures.Add($"{name}: streamed {item}");
                    break;
                }
            }
            catch (HubException ex)
            {
                var error = ChatStreamError.Parse(ex.Message);
                if (error is null || !statuses.Contains(error.Status) || string.IsNullOrWhiteSpace(error.Reason))
                {
                    failures.Add($"{name}: {Trim(ex.Message)}");
                }
            }
        }

        var state = hub.State;
        await hub.DisposeAsync();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(HubConnectionState.Connected, state);
        Assert.Equal(before, await SnapshotAsync(client));
        await AssertHealthyAsync(client);
    }

    [Theory]
    [InlineData("malformed JSON", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"StreamChat\",\"arguments\":[{")]
    [InlineData("invalid UTF-8", "{\"type\":4,\"invocationId\":\"1\",\"target\":\"StreamChat\",\"arguments\":[{\"inferenceId\":\"\xFF\xFE\"}]}")]
    [InlineData("deep nesting", "{\"type\":4,\"invocationId\":\"1\",\"target\":\"StreamChat\",\"arguments\":[DEEP]}")]
    [InlineData("an unknown method", "{\"type\":4,\"invocationId\":\"1\",\"target\":\"DeleteEverything\",\"arguments\":[]}")]
    public async Task A_broken_hub_message_ends_that_connection_or_invocation_and_the_server_keeps_serving(string name, string message)
    {
        using var client = fixture.Server.CreateApiKeyClient(ServerFixture.BootstrapApiKey);
        var before = await SnapshotAsync(client);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"ApiKey {ServerFixture.BootstrapApiKey}");
        await socket.ConnectAsync(new UriBuilder(new Uri(fixture.Server.BaseAddress, "/hubs/chat")) { Scheme = "ws" }.Uri, CancellationToken.None);
        await socket.SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Equal("{}", await ReceiveAsync(socket));

        // Latin-1 keeps \xFF and \xFE as the single invalid bytes they stand for.
        var bytes = Encoding.Latin1.GetBytes(message.Replace("DEEP", new string('[', 5000) + new string(']', 5000), StringComparison.Ordinal) + "\u001e");
        await socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None);

        // Either the invocation fails with an error completion (type 3) and the connection stays, or the server closes the
        // connection with an error (type 7 "close" or the socket's close); never a crash, never a hang.
        var answer = await ReceiveAsync(socket);
        Assert.True((answer.Contains("\"type\":3", StringComparison.Ordinal) && answer.Contains("\"error\"", StringComparison.Ordinal))
            || answer.Contains("\"type\":7", StringComparison.Ordinal) || answer == string.Empty, $"{name}: {Trim(answer)}");
        Assert.Equal(before, await SnapshotAsync(client));
        await AssertHealthyAsync(client);
    }

    // The first SignalR frame other than a ping (without its record separator), the empty string when the server closed the
    // socket; within 30 s.
    private static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        while (!text.ToString().Contains('\u001e', StringComparison.Ordinal))
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
            }
            catch (WebSocketException)
            {
                return string.Empty;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return string.Empty;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        // Pings (type 6) may come first.
        var frames = text.ToString().Split('\u001e', StringSplitOptions.RemoveEmptyEntries);
        var meaningful = frames.FirstOrDefault(f => !f.Contains("\"type\":6", StringComparison.Ordinal));
        return meaningful ?? await ReceiveAsync(socket);
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
