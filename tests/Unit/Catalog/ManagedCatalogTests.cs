using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Unit.Catalog;

/// <summary>
/// The managed service's catalog on the request path: end of life under a fake clock, the backend a catalog id runs on
/// (embedded or upstream, parsed by the upstream's own service with the operator's secret restored), and the errors of a
/// model that cannot serve.
/// </summary>
public sealed class ManagedCatalogTests
{
    // catalog.json: chat_completion, EOL 2026-04-28.
    private const string Sonnet37 = "anthropic-claude-3.7-sonnet";
    private const string Gpt41 = "openai-gpt-4.1";
    private const string Embedding3Small = "openai-text-embedding-3-small";
    private static readonly DateTimeOffset Today = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_catalog_model_serves_until_the_day_before_its_eol_date_and_answers_410_from_that_day_on()
    {
        await using var bed = await CatalogTestBed.StartAsync(new DateTimeOffset(2026, 4, 27, 23, 59, 0, TimeSpan.Zero));
        await bed.AssignUpstreamAsync(Sonnet37, new JsonObject { ["api_key"] = "sk-op", ["model_id"] = "claude-3-7-sonnet" });

        var settings = await bed.ValidateNewAsync(TaskType.ChatCompletion, Sonnet37);
        await bed.ResolveAsync(TaskType.ChatCompletion, Sonnet37);

        bed.SetNow(new DateTimeOffset(2026, 4, 28, 0, 0, 0, TimeSpan.Zero));
        const string Reason = "Model [anthropic-claude-3.7-sonnet] reached its end-of-life date [2026-04-28] and no longer serves requests";
        var onCreate = Assert.Throws<InferenceApiException>(() => bed.Elastic.ValidateNew(settings));
        var onRequest = await Assert.ThrowsAsync<InferenceApiException>(() => bed.ResolveAsync(TaskType.ChatCompletion, Sonnet37));
        foreach (var error in new[] { onCreate, onRequest })
        {
            Assert.Equal(410, error.Status);
            Assert.Equal("model_end_of_life_exception", error.Type);
            Assert.Equal(Reason, error.Reason);
        }

        // A client is never made for it, whichever way it is asked for.
        var made = bed.Upstream.Clients.Count;
        Assert.Equal(410, Assert.Throws<InferenceApiException>(() => bed.Elastic.CreateClient(
            InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("x"), TaskType.ChatCompletion, "elastic", "{}", null, null, null, bed.Clock.GetUtcNow()),
            settings)).Status);
        Assert.Equal(made, bed.Upstream.Clients.Count);
    }

    [Fact]
    public async Task The_eol_warning_starts_90_days_before_the_date_and_the_model_still_serves_meanwhile()
    {
        await using var bed = await CatalogTestBed.StartAsync(new DateTimeOffset(2026, 1, 27, 12, 0, 0, TimeSpan.Zero));
        var model = bed.Catalog.Find(Sonnet37)!.Model;
        Assert.False(model.IsEolSoon(bed.Catalog.Today));

        bed.SetNow(new DateTimeOffset(2026, 1, 28, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(90, model.EolDate!.Value.DayNumber - bed.Catalog.Today.DayNumber);
        Assert.True(model.IsEolSoon(bed.Catalog.Today));
        bed.Catalog.EnsureServing(model);

        bed.SetNow(new DateTimeOffset(2026, 4, 28, 0, 0, 0, TimeSpan.Zero));
        Assert.False(model.IsEolSoon(bed.Catalog.Today));
        Assert.True(model.IsEndOfLife(bed.Catalog.Today));
    }

    [Fact]
    public async Task A_catalog_model_without_backend_is_a_400_on_create_and_a_503_on_a_request()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        const string Reason = "Catalog model [openai-gpt-4.1] has no backend on this installation; an operator must assign one";

        var onCreate = await Assert.ThrowsAsync<InferenceApiException>(() => bed.ValidateNewAsync(TaskType.ChatCompletion, Gpt41));
        Assert.Equal((400, Reason), (onCreate.Status, onCreate.Reason));

        // An endpoint created before its backend was removed.
        var onRequest = await Assert.ThrowsAsync<InferenceApiException>(() => bed.ResolveAsync(TaskType.ChatCompletion, Gpt41));
        Assert.Equal((503, Reason), (onRequest.Status, onRequest.Reason));
    }

    [Fact]
    public async Task An_upstream_backend_is_parsed_by_its_service_with_the_operators_secret_restored_and_one_connection_for_every_tenant()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        await bed.AssignUpstreamAsync(Embedding3Small, new JsonObject { ["api_key"] = "sk-operator-secret", ["model_id"] = "text-embedding-3-small" });

        await using (var context = bed.Database.CreateDbContext())
        {
            var row = await context.CatalogBackends.AsNoTracking().SingleAsync();
            Assert.Equal(CatalogBackendKind.Upstream, row.Kind);
            Assert.Equal("""{"model_id":"text-embedding-3-small"}""", row.UpstreamServiceSettings);
            Assert.DoesNotContain("sk-operator-secret", row.UpstreamSecretSettings!, StringComparison.Ordinal);
        }

        await bed.ValidateNewAsync(TaskType.TextEmbedding, Embedding3Small);
        var first = await bed.ResolveAsync(TaskType.TextEmbedding, Embedding3Small);
        await bed.ResolveAsync(TaskType.TextEmbedding, Embedding3Small);
        Assert.Equal(2, (await first.TextEmbedding!.GenerateAsync(["a", "b"])).Embeddings.Count);

        var clients = bed.Upstream.Clients;
        Assert.Equal(2, clients.Count);
        Assert.All(clients, c =>
        {
            Assert.Equal("sk-operator-secret", c.Settings.ApiKey);
            Assert.Equal("text-embedding-3-small", c.Settings.ModelId);
            Assert.Null(c.Endpoint.SecretSettings);
            Assert.Equal(ElasticInferenceService.BackendOrganizationId, c.Endpoint.OrganizationId);
            Assert.Equal("catalog.openai-text-embedding-3-small", c.Endpoint.InferenceId.Value);
        });
        Assert.Equal(clients[0].Endpoint.Id, clients[1].Endpoint.Id);

        // Assigned again (a new key): a new connection, with the new secret.
        bed.SetNow(Today.AddMinutes(1));
        await bed.AssignUpstreamAsync(Embedding3Small, new JsonObject { ["api_key"] = "sk-rotated", ["model_id"] = "text-embedding-3-small" });
        await bed.ResolveAsync(TaskType.TextEmbedding, Embedding3Small);
        var rotated = bed.Upstream.Clients[^1];
        Assert.Equal("sk-rotated", rotated.Settings.ApiKey);
        Assert.NotEqual(clients[0].Endpoint.Id, rotated.Endpoint.Id);
    }

    [Fact]
    public async Task The_task_type_must_be_the_catalog_models_and_completion_may_run_on_a_chat_model()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        await bed.AssignEmbeddedAsync(Gpt41, ".demo-chat");
        await bed.AssignUpstreamAsync(Embedding3Small, new JsonObject { ["api_key"] = "k", ["model_id"] = "m" });

        bed.Elastic.ValidateNew(Settings(bed, TaskType.Completion, Gpt41));
        bed.Elastic.ValidateNew(Settings(bed, TaskType.ChatCompletion, Gpt41));
        var wrong = Assert.Throws<InferenceApiException>(() => bed.Elastic.ValidateNew(Settings(bed, TaskType.Rerank, Embedding3Small)));
        Assert.Equal("Model [openai-text-embedding-3-small] does not support task type [rerank]", wrong.Reason);

        // The loopback provider has no completion: a chat catalog model it serves cannot back a completion endpoint.
        await bed.AssignUpstreamAsync(Gpt41, new JsonObject { ["api_key"] = "k", ["model_id"] = "gpt-4.1" });
        var unsupported = Assert.Throws<InferenceApiException>(() => bed.Elastic.ValidateNew(Settings(bed, TaskType.Completion, Gpt41)));
        Assert.Equal(400, unsupported.Status);
        Assert.Contains("[loopback-upstream]", unsupported.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_embedded_backend_runs_the_catalog_model_on_the_embedded_host()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        await bed.AssignEmbeddedAsync("microsoft-multilingual-e5-large", CatalogTestBed.EmbeddedModel);

        await bed.ValidateNewAsync(TaskType.TextEmbedding, "microsoft-multilingual-e5-large");
        var client = await bed.ResolveAsync(TaskType.TextEmbedding, "microsoft-multilingual-e5-large");
        var result = await client.TextEmbedding!.GenerateAsync(["The quick brown fox"]);

        Assert.NotEmpty(result.Embeddings[0].Vector);
        Assert.True(result.Usage.InputTokens > 0);
        Assert.Empty(bed.Upstream.Clients);
    }

    [Fact]
    public async Task Catalog_rows_that_are_models_of_this_installation_run_on_them_until_an_operator_assigns_another()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        bed.Elastic.ValidateNew(Settings(bed, TaskType.ChatCompletion, ".demo-chat"));
        bed.Elastic.ValidateNew(Settings(bed, TaskType.TextEmbedding, ".starter-embedding"));

        // A built-in model that is no catalog row keeps today's behaviour; an unknown id is refused.
        bed.Elastic.ValidateNew(Settings(bed, TaskType.TextEmbedding, CatalogTestBed.EmbeddedModel));
        var unknown = Assert.Throws<InferenceApiException>(() => bed.Elastic.ValidateNew(Settings(bed, TaskType.TextEmbedding, "no-such-model")));
        Assert.Equal("Model [no-such-model] is not available from the [elastic] service on this installation", unknown.Reason);
    }

    [Fact]
    public async Task Broken_upstream_settings_answer_503_without_showing_the_operators_settings()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        await bed.AssignUpstreamAsync(Embedding3Small, new JsonObject { ["api_key"] = "k", ["model_id"] = "m", ["region"] = "operator-only-detail" });

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => bed.ResolveAsync(TaskType.TextEmbedding, Embedding3Small));
        Assert.Equal(503, error.Status);
        Assert.DoesNotContain("operator-only-detail", error.Reason, StringComparison.Ordinal);
        Assert.Contains("operator-only-detail", error.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backend_another_node_assigns_is_seen_after_the_refresh_interval()
    {
        await using var bed = await CatalogTestBed.StartAsync(Today);
        Assert.Null((await bed.Catalog.FindAsync(Gpt41, CancellationToken.None))!.Backend);

        await using (var otherNode = bed.Database.CreateDbContext())
        {
            otherNode.CatalogBackends.Add(CatalogBackend.Embedded(Gpt41, ".demo-chat", Today));
            await otherNode.SaveChangesAsync();
        }

        Assert.Null((await bed.Catalog.FindAsync(Gpt41, CancellationToken.None))!.Backend);
        bed.SetNow(Today + ManagedCatalog.RefreshInterval);
        var seen = (await bed.Catalog.FindAsync(Gpt41, CancellationToken.None))!.Backend;
        Assert.Equal(".demo-chat", seen?.EmbeddedModelId);
        Assert.Equal(".demo-chat", bed.Catalog.Find(Gpt41)!.Backend?.EmbeddedModelId);
    }

    private static ElasticEndpointSettings Settings(CatalogTestBed bed, TaskType taskType, string modelId) =>
        (ElasticEndpointSettings)bed.Elastic.Parse(taskType, new JsonObject { ["model_id"] = modelId }, null);
}
