using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.TestModels;

namespace WebConsole.E2E.Inference;

/// <summary>
/// A real server with a generated embedding model and cross-encoder registered by configuration, and a loopback hub
/// that serves the embedding model as the built-in <c>.multilingual-e5-small</c>.
/// </summary>
public sealed class EndpointCrudServer : IAsyncLifetime
{
    public const string EmbeddingModel = "crud-bert";
    public const string RerankModel = "crud-cross-encoder";
    private const string HubRepository = "test-org/e5-export";

    private WebConsoleServer? _server;
    private WebConsole.Tests.Hub.FakeHubServer? _hub;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{EmbeddingModel}:Path"] = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        settings[$"Inference:Models:{RerankModel}:Path"] = await TestModelStore.GetAsync(TestModelKind.CrossEncoder);
        _hub = await WebConsole.Tests.Hub.FakeHubServer.StartAsync(new Dictionary<string, string>
        {
            [HubRepository] = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling),
        });
        settings["Inference:Hub:BaseUrl"] = _hub.BaseUrl;
        settings["Inference:BuiltInModels:.multilingual-e5-small:Repository"] = HubRepository;
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }
    }

    /// <summary>A client with an API key (the bootstrap key by default: inference_admin of the default organization).</summary>
    public HttpClient Client(string? encodedKey = null)
    {
        var client = Server.CreateApiKeyClient(encodedKey);
        return client;
    }

    /// <summary>Creates an organization with an admin, signs the admin in and answers an inference_admin key of it.</summary>
    public async Task<string> CreateOrganizationKeyAsync(string slug)
    {
        using var operatorClient = Client();
        return await OtherOrganizations.CreateAdminKeyAsync(Server, operatorClient, slug);
    }
}

[CollectionDefinition(Name)]
public sealed class EndpointCrudCollection : ICollectionFixture<EndpointCrudServer>
{
    public const string Name = "endpoint-crud";
}

[Collection(EndpointCrudCollection.Name)]
public sealed class EndpointCrudTests(EndpointCrudServer server)
{
    private static readonly string[] ReservedIds =
    [
        ".chat-elastic", ".elser-2-elasticsearch", ".multilingual-e5-small-elasticsearch", ".rerank-v1-elasticsearch",
        ".starter-embedding-elasticsearch", ".starter-rerank-elasticsearch", ".starter-sparse-elasticsearch",
    ];

    private static JsonObject Embedding(object? serviceSettings = null, string model = EndpointCrudServer.EmbeddingModel) => new()
    {
        ["service"] = "elasticsearch",
        ["service_settings"] = serviceSettings is null
            ? new JsonObject { ["model_id"] = model, ["num_allocations"] = 1, ["num_threads"] = 1 }
            : JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(serviceSettings)),
    };

    private static async Task<(HttpStatusCode Status, JsonNode? Body, string Text)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var text = body as string ?? (body is JsonNode node ? node.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(body));
            request.Content = new StringContent(text, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        }

        using var response = await client.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        try
        {
            json = answer.Length == 0 ? null : JsonNode.Parse(answer);
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return (response.StatusCode, json, answer);
    }

    private static async Task AssertErrorAsync(HttpClient client, HttpMethod method, string path, object? body, int status, string type, string reason)
    {
        var (code, json, text) = await SendAsync(client, method, path, body);
        Assert.True((int)code == status, $"{method} {path}: expected {status}, got {(int)code}: {text}");
        Assert.Equal(status, (int?)json?["status"]);
        Assert.Equal(type, (string?)json?["error"]?["type"]);
        Assert.Equal(reason, (string?)json?["error"]?["reason"]);
        Assert.Equal(type, (string?)json?["error"]?["root_cause"]?[0]?["type"]);
        Assert.Equal(reason, (string?)json?["error"]?["root_cause"]?[0]?["reason"]);
    }

    private async Task CreateAsync(HttpClient client, string path, JsonObject body)
    {
        var (status, _, text) = await SendAsync(client, HttpMethod.Put, path, body);
        Assert.True(status == HttpStatusCode.OK, $"PUT {path}: {(int)status} {text}\n{server.Server.Log[^Math.Min(4000, server.Server.Log.Length)..]}");
    }

    [Fact]
    public async Task An_endpoint_is_created_listed_updated_and_deleted_with_elasticsearch_shapes()
    {
        using var client = server.Client();
        var (status, created, text) = await SendAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-round-trip", Embedding());
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal("crud-round-trip", (string?)created!["inference_id"]);
        Assert.Equal("text_embedding", (string?)created["task_type"]);
        Assert.Equal("elasticsearch", (string?)created["service"]);
        Assert.Equal(EndpointCrudServer.EmbeddingModel, (string?)created["service_settings"]!["model_id"]);
        Assert.Equal(1, (int?)created["service_settings"]!["num_allocations"]);
        Assert.Equal("sentence", (string?)created["chunking_settings"]!["strategy"]);
        Assert.Equal(250, (int?)created["chunking_settings"]!["max_chunk_size"]);

        // Task type in the body, one-segment path, the vendor media type, and explicit chunking settings.
        var body = Embedding();
        body["task_type"] = "text_embedding";
        body["chunking_settings"] = new JsonObject { ["strategy"] = "word", ["max_chunk_size"] = 100, ["overlap"] = 10 };
        (status, created, text) = await SendAsync(client, HttpMethod.Put, "/_inference/crud-body-task", body, "application/vnd.elasticsearch+json; compatible-with=9");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal("word", (string?)created!["chunking_settings"]!["strategy"]);

        var (_, one, oneText) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-round-trip");
        Assert.Equal("crud-round-trip", (string?)one!["endpoints"]![0]!["inference_id"]);
        Assert.Single(one["endpoints"]!.AsArray());
        Assert.Contains("\"service_settings\"", oneText, StringComparison.Ordinal);

        foreach (var path in new[] { "/_inference", "/_inference/_all", "/_inference/*", "/_inference/text_embedding/_all", "/_inference/text_embedding/crud-round-trip" })
        {
            var (listStatus, list, listText) = await SendAsync(client, HttpMethod.Get, path);
            Assert.True(listStatus == HttpStatusCode.OK, $"{path}: {listText}");
            var ids = list!["endpoints"]!.AsArray().Select(e => (string)e!["inference_id"]!).ToList();
            Assert.Contains("crud-round-trip", ids);
            Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
            if (path.Contains("text_embedding", StringComparison.Ordinal))
            {
                Assert.All(list["endpoints"]!.AsArray(), e => Assert.Equal("text_embedding", (string?)e!["task_type"]));
            }

            if (path is "/_inference" or "/_inference/_all")
            {
                Assert.All(ReservedIds, id => Assert.Contains(id, ids));
            }
        }

        (status, var updated, text) = await SendAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-round-trip/_update", new
        {
            service_settings = new { adaptive_allocations = new { enabled = true, min_number_of_allocations = 0, max_number_of_allocations = 2 } },
        });
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Null(updated!["service_settings"]!["num_allocations"]);
        Assert.Equal(2, (int?)updated["service_settings"]!["adaptive_allocations"]!["max_number_of_allocations"]);
        (_, one, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-round-trip");
        Assert.True((bool)one!["endpoints"]![0]!["service_settings"]!["adaptive_allocations"]!["enabled"]!);

        (status, var deleted, text) = await SendAsync(client, HttpMethod.Delete, "/_inference/text_embedding/crud-round-trip");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.True((bool)deleted!["acknowledged"]!);
        Assert.Empty(deleted["pipelines"]!.AsArray());
        Assert.Empty(deleted["indexes"]!.AsArray());
        await AssertErrorAsync(client, HttpMethod.Get, "/_inference/crud-round-trip", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-round-trip]");

        // Creation, update and deletion are each in the audit trail.
        var (_, audit, auditText) = await SendAsync(client, HttpMethod.Get, "/api/audit?resource_type=inference_endpoint&resource_id=crud-round-trip&page_size=50");
        var actions = audit!["entries"]!.AsArray().Select(e => (string)e!["action"]!).ToList();
        Assert.True(actions.Contains("inference_endpoint.create") && actions.Contains("inference_endpoint.update") && actions.Contains("inference_endpoint.delete"), auditText);
    }

    [Fact]
    public async Task Every_create_error_of_the_contract_table_has_its_status_type_and_reason()
    {
        using var client = server.Client();
        await CreateAsync(client, "/_inference/text_embedding/crud-existing", Embedding());

        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/bad/crud-x", Embedding(), 400, "status_exception", "Unknown task_type [bad]");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", new { service_settings = new { model_id = "m" } },
            400, "status_exception", "Inference endpoint configuration is missing the [service] setting");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", new { service = "x", service_settings = new { } },
            400, "status_exception", "Unknown service [x]");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/.multilingual-e5-small-elasticsearch", Embedding(),
            400, "status_exception", "[.multilingual-e5-small-elasticsearch] is a reserved inference ID. Cannot create a new inference endpoint with a reserved ID.");
        await AssertErrorAsync(client, HttpMethod.Put, $"/_inference/text_embedding/{EndpointCrudServer.EmbeddingModel}", Embedding(),
            400, "status_exception", $"Inference endpoint IDs must be unique. Requested inference endpoint ID [{EndpointCrudServer.EmbeddingModel}] matches existing trained model ID(s) but must not.");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x",
            Embedding(new { model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 1, num_threads = 1, foo = "bar" }),
            400, "status_exception", "Configuration contains settings [{foo=bar}] unknown to the [elasticsearch] service");
        var topLevel = Embedding();
        topLevel["extra"] = 5;
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", topLevel,
            400, "status_exception", "Configuration contains settings [{extra=5}] unknown to the [elasticsearch] service");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", Embedding(new { num_allocations = 1, num_threads = 1 }),
            400, "status_exception", "[service_settings] does not contain the required setting [model_id]");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-existing", Embedding(),
            400, "resource_already_exists_exception", "Inference endpoint [crud-existing] already exists");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x",
            Embedding(new { model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 1, num_threads = 1, adaptive_allocations = new { enabled = true } }),
            400, "status_exception", "[num_allocations] cannot be set if adaptive allocations is enabled");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x",
            Embedding(new { model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 1, num_threads = 3 }),
            400, "status_exception", "[num_threads] must be a power of 2 less than or equal to 32");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x",
            Embedding(new { model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 1, num_threads = 64 }),
            400, "status_exception", "[num_threads] must be a power of 2 less than or equal to 32");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", Embedding(model: "no-such-model"),
            400, "status_exception", "Could not deploy model [no-such-model] as the model cannot be found.");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/crud-x", Embedding(),
            400, "status_exception", "model is missing required setting [task_type]");
        var (parseStatus, parseError, parseText) = await SendAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-x", "{\"service\": ");
        Assert.True(parseStatus == HttpStatusCode.BadRequest, parseText);
        Assert.Equal("x_content_parse_exception", (string?)parseError!["error"]!["type"]);
        Assert.StartsWith("Failed to parse request body", (string?)parseError["error"]!["reason"], StringComparison.Ordinal);
        var (afterFailures, _, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-x");
        Assert.Equal(HttpStatusCode.NotFound, afterFailures);

        // The built-in model aliases are accepted (creation downloads the built-in model from the hub first).
        await CreateAsync(client, "/_inference/text_embedding/crud-alias", Embedding(model: ".multilingual-e5-small_linux-x86_64"));
    }

    [Fact]
    public async Task Get_update_and_delete_errors_of_the_contract_table_have_their_status_type_and_reason()
    {
        using var client = server.Client();
        await CreateAsync(client, "/_inference/text_embedding/crud-errors", Embedding());

        await AssertErrorAsync(client, HttpMethod.Get, "/_inference/crud-missing", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-missing]");
        await AssertErrorAsync(client, HttpMethod.Delete, "/_inference/crud-missing", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-missing]");
        await AssertErrorAsync(client, HttpMethod.Get, "/_inference/sparse_embedding/crud-errors", null,
            400, "status_exception", "Requested task type [sparse_embedding] does not match the inference endpoint's task type [text_embedding]");
        await AssertErrorAsync(client, HttpMethod.Get, "/_inference/bad/crud-errors", null, 400, "status_exception", "Unknown task_type [bad]");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/rerank/crud-errors/_update", new { task_settings = new { } },
            400, "status_exception", "Task type must match the task type of the existing endpoint");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/crud-errors/_update", new { service_settings = new { model_id = "other" } },
            400, "status_exception", "[service_settings] field [model_id] cannot be updated; updatable settings: [adaptive_allocations, num_allocations]");
        await AssertErrorAsync(client, HttpMethod.Put, "/_inference/crud-errors/_update", new { service_settings = new { num_allocations = 0 } },
            400, "status_exception", "[service_settings] Invalid value [0]. [num_allocations] must be a positive integer");
        await AssertErrorAsync(client, HttpMethod.Delete, "/_inference/.elser-2-elasticsearch", null,
            400, "status_exception", "[.elser-2-elasticsearch] is a reserved inference endpoint. Cannot delete a reserved inference endpoint.");
        await AssertErrorAsync(client, HttpMethod.Delete, "/_inference/rerank/crud-errors", null,
            400, "status_exception", "Requested task type [rerank] does not match the inference endpoint's task type [text_embedding]");

        // A refused update changed nothing.
        var (_, got, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-errors");
        Assert.Equal(1, (int?)got!["endpoints"]![0]!["service_settings"]!["num_allocations"]);
        Assert.Equal(EndpointCrudServer.EmbeddingModel, (string?)got["endpoints"]![0]!["service_settings"]!["model_id"]);

        // num_allocations replaces adaptive allocations on update.
        var (status, updated, text) = await SendAsync(client, HttpMethod.Put, "/_inference/text_embedding/crud-errors/_update", new { service_settings = new { num_allocations = 2 } });
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal(2, (int?)updated!["service_settings"]!["num_allocations"]);
    }

    [Fact]
    public async Task A_referenced_endpoint_is_deleted_only_with_force_and_dry_run_reports_the_references()
    {
        using var client = server.Client();
        await CreateAsync(client, "/_inference/rerank/crud-referenced", new JsonObject
        {
            ["service"] = "elasticsearch",
            ["service_settings"] = new JsonObject { ["model_id"] = EndpointCrudServer.RerankModel, ["num_allocations"] = 1, ["num_threads"] = 1 },
            ["task_settings"] = new JsonObject { ["return_documents"] = false },
        });
        var (keyStatus, _, keyText) = await SendAsync(client, HttpMethod.Post, "/_security/api_key",
            new { name = "crud-ref-key", metadata = new { allowed_endpoints = new[] { "crud-referenced" } } });
        Assert.True(keyStatus == HttpStatusCode.OK, keyText);

        const string Message = "Inference endpoint crud-referenced is referenced by api_keys: [crud-ref-key]. Ensure that no api_keys are using this inference endpoint, or use force to ignore this warning and delete the inference endpoint.";
        await AssertErrorAsync(client, HttpMethod.Delete, "/_inference/crud-referenced", null, 409, "status_exception", Message);

        var (status, dryRun, text) = await SendAsync(client, HttpMethod.Delete, "/_inference/rerank/crud-referenced?dry_run=true");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.False((bool)dryRun!["acknowledged"]!);
        Assert.Equal("crud-ref-key", (string?)dryRun["api_keys"]![0]);
        Assert.Empty(dryRun["pipelines"]!.AsArray());
        Assert.Equal(Message, (string?)dryRun["error_message"]);
        var (stillThere, _, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-referenced");
        Assert.Equal(HttpStatusCode.OK, stillThere);

        (status, var forced, text) = await SendAsync(client, HttpMethod.Delete, "/_inference/crud-referenced?force=true");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.True((bool)forced!["acknowledged"]!);
        var (gone, _, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-referenced");
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    [Fact]
    public async Task Another_organization_cannot_see_change_or_delete_an_endpoint_and_has_its_own_reserved_ones()
    {
        using var client = server.Client();
        await CreateAsync(client, "/_inference/text_embedding/crud-tenant", Embedding());
        using var other = server.Client(await server.CreateOrganizationKeyAsync($"crud{Guid.NewGuid():N}"[..20]));

        await AssertErrorAsync(other, HttpMethod.Get, "/_inference/crud-tenant", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-tenant]");
        await AssertErrorAsync(other, HttpMethod.Get, "/_inference/text_embedding/crud-tenant", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-tenant]");
        await AssertErrorAsync(other, HttpMethod.Put, "/_inference/crud-tenant/_update", new { service_settings = new { num_allocations = 4 } },
            404, "resource_not_found_exception", "Inference endpoint not found [crud-tenant]");
        await AssertErrorAsync(other, HttpMethod.Delete, "/_inference/crud-tenant", null, 404, "resource_not_found_exception", "Inference endpoint not found [crud-tenant]");

        var (_, list, _) = await SendAsync(other, HttpMethod.Get, "/_inference/_all");
        var ids = list!["endpoints"]!.AsArray().Select(e => (string)e!["inference_id"]!).ToList();
        Assert.DoesNotContain("crud-tenant", ids);
        Assert.Equal(ReservedIds, ids);

        // The same id in the other organization is its own endpoint.
        await CreateAsync(other, "/_inference/text_embedding/crud-tenant", Embedding(new { model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 3, num_threads = 1 }));
        var (_, mine, _) = await SendAsync(client, HttpMethod.Get, "/_inference/crud-tenant");
        Assert.Equal(1, (int?)mine!["endpoints"]![0]!["service_settings"]!["num_allocations"]);
    }

    [Fact]
    public async Task Services_describe_the_elasticsearch_schema_and_trained_model_stats_list_the_models()
    {
        using var client = server.Client();
        var (status, services, text) = await SendAsync(client, HttpMethod.Get, "/_inference/_services");
        Assert.True(status == HttpStatusCode.OK, text);
        var elasticsearch = services!.AsArray().Single(s => (string?)s!["service"] == "elasticsearch")!;
        var numAllocations = elasticsearch["configurations"]!["num_allocations"]!;
        Assert.True((bool)numAllocations["updatable"]!);
        Assert.False((bool)numAllocations["sensitive"]!);
        Assert.Equal("int", (string?)numAllocations["type"]);
        Assert.Contains("rerank", numAllocations["supported_task_types"]!.AsArray().Select(t => (string)t!));
        Assert.True((bool)elasticsearch["configurations"]!["model_id"]!["required"]!);
        Assert.False((bool)elasticsearch["configurations"]!["model_id"]!["updatable"]!);

        (status, var rerank, text) = await SendAsync(client, HttpMethod.Get, "/_inference/_services/rerank");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Contains(rerank!.AsArray(), s => (string?)s!["service"] == "elasticsearch");
        await AssertErrorAsync(client, HttpMethod.Get, "/_inference/_services/bad", null, 400, "status_exception", "Unknown task_type [bad]");

        (status, var stats, text) = await SendAsync(client, HttpMethod.Get, "/_ml/trained_models/_stats");
        Assert.True(status == HttpStatusCode.OK, text);
        var models = stats!["trained_model_stats"]!.AsArray();
        Assert.Equal(models.Count, (int?)stats["count"]);
        var bert = models.First(m => (string?)m!["model_id"] == EndpointCrudServer.EmbeddingModel)!;
        Assert.Equal("downloaded", (string?)bert["model_download"]!["state"]);

        (status, var one, text) = await SendAsync(client, HttpMethod.Get, $"/_ml/trained_models/{EndpointCrudServer.RerankModel}/_stats");
        Assert.True(status == HttpStatusCode.OK, text);
        Assert.Equal(1, (int?)one!["count"]);
        await AssertErrorAsync(client, HttpMethod.Get, "/_ml/trained_models/no-such-model/_stats", null, 404, "resource_not_found_exception", "No known trained model with model_id [no-such-model]");
    }

    [Fact]
    public async Task Creating_an_endpoint_deploys_its_model_and_deleting_the_last_endpoint_on_a_deployment_stops_it()
    {
        using var client = server.Client();
        await CreateAsync(client, "/_inference/text_embedding/crud-deploy-a", Embedding());
        await CreateAsync(client, "/_inference/text_embedding/crud-deploy-b", Embedding(new
        {
            model_id = EndpointCrudServer.EmbeddingModel, num_allocations = 1, num_threads = 1, deployment_id = "crud-deploy-a",
        }));

        async Task<string[]> DeploymentsAsync()
        {
            var (code, stats, text) = await SendAsync(client, HttpMethod.Get, $"/_ml/trained_models/{EndpointCrudServer.EmbeddingModel}/_stats");
            Assert.True(code == HttpStatusCode.OK, text);
            return [.. stats!["trained_model_stats"]!.AsArray()
                .Select(s => (string?)s!["deployment_stats"]?["deployment_id"])
                .OfType<string>()];
        }

        // Created endpoints are deployed at once, before any inference; b shares a's deployment.
        Assert.Contains("crud-deploy-a", await DeploymentsAsync());
        Assert.DoesNotContain("crud-deploy-b", await DeploymentsAsync());

        // Deleting a leaves the deployment to b; deleting b, its last user, stops it.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Delete, "/_inference/crud-deploy-a")).Status);
        Assert.Contains("crud-deploy-a", await DeploymentsAsync());
        using (var embedded = await client.PostAsJsonAsync("/_inference/text_embedding/crud-deploy-b", new { input = "still served" }))
        {
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, await embedded.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Delete, "/_inference/crud-deploy-b")).Status);
        Assert.DoesNotContain("crud-deploy-a", await DeploymentsAsync());
    }
}
