using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Models;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Secrets;
using WebConsole.TestModels;
using WebConsole.Unit.RateLimiting;
using WebConsole.Unit.Usage;

namespace WebConsole.Unit.Catalog;

/// <summary>
/// The <c>elastic</c> service as the server composes it (the embedded host with a generated BERT model as <see cref="EmbeddedModel"/>,
/// the model store, the endpoint services), on a migrated SQLite database seeded with the product catalog, under a
/// clock the test moves, with <see cref="LoopbackUpstreamService"/> registered as an upstream provider.
/// </summary>
internal sealed class CatalogTestBed : IAsyncDisposable
{
    public const string EmbeddedModel = "catalog-bert";

    private readonly ServiceProvider _services;

    private CatalogTestBed(LedgerTestDatabase database, FakeClock clock, ServiceProvider services)
    {
        Database = database;
        Clock = clock;
        _services = services;
    }

    public LedgerTestDatabase Database { get; }

    public FakeClock Clock { get; }

    public ManagedCatalog Catalog => _services.GetRequiredService<ManagedCatalog>();

    public ElasticInferenceService Elastic => (ElasticInferenceService)Registry.Find(ElasticInferenceService.ServiceName)!;

    public LoopbackUpstreamService Upstream => (LoopbackUpstreamService)Registry.Find(LoopbackUpstreamService.ServiceName)!;

    private IInferenceServiceRegistry Registry => _services.GetRequiredService<IInferenceServiceRegistry>();

    /// <summary>A test bed whose clock reads <paramref name="now"/>.</summary>
    public static async Task<CatalogTestBed> StartAsync(DateTimeOffset now)
    {
        var database = await LedgerTestDatabase.CreateAsync();
        await using (var context = database.CreateDbContext())
        {
            await CatalogSeeder.SeedAsync(context);
        }

        var clock = new FakeClock();
        clock.Advance(now - clock.GetUtcNow());
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:Device"] = "Cpu",
            [$"Inference:Models:{EmbeddedModel}:Path"] = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling),
        });
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddSingleton<ISystemDbContextFactory>(database);
        builder.AddInference();
        builder.Services.AddWebConsoleSecrets();
        builder.Services.AddModelStore();
        builder.Services.AddInferenceEndpoints();
        builder.Services.AddSingleton<IInferenceService, LoopbackUpstreamService>();
        return new CatalogTestBed(database, clock, builder.Services.BuildServiceProvider());
    }

    /// <summary>Moves the clock to <paramref name="at"/> (forward only).</summary>
    public void SetNow(DateTimeOffset at) => Clock.Advance(at - Clock.GetUtcNow());

    /// <summary>Gives the catalog model an upstream backend on the loopback service, as the operator API stores it (secrets encrypted).</summary>
    public async Task AssignUpstreamAsync(string catalogId, JsonObject serviceSettings, JsonObject? taskSettings = null)
    {
        var secrets = _services.GetRequiredService<CatalogBackendSecrets>();
        var (stored, protectedSecrets) = secrets.Split(serviceSettings, Upstream.SecretFields);
        await SaveAsync(catalogId, existing =>
        {
            if (existing is null)
            {
                return CatalogBackend.Upstream(catalogId, LoopbackUpstreamService.ServiceName, stored.ToJsonString(), protectedSecrets, taskSettings?.ToJsonString(), Clock.GetUtcNow());
            }

            existing.UseUpstream(LoopbackUpstreamService.ServiceName, stored.ToJsonString(), protectedSecrets, taskSettings?.ToJsonString(), Clock.GetUtcNow());
            return existing;
        });
    }

    /// <summary>Gives the catalog model an embedded backend.</summary>
    public Task AssignEmbeddedAsync(string catalogId, string modelId) =>
        SaveAsync(catalogId, existing =>
        {
            if (existing is null)
            {
                return CatalogBackend.Embedded(catalogId, modelId, Clock.GetUtcNow());
            }

            existing.UseEmbedded(modelId, Clock.GetUtcNow());
            return existing;
        });

    /// <summary>Create's checks and preparation, as <c>PUT /_inference</c> runs them.</summary>
    public async Task<ElasticEndpointSettings> ValidateNewAsync(TaskType taskType, string modelId)
    {
        var settings = (ElasticEndpointSettings)Elastic.Parse(taskType, new JsonObject { ["model_id"] = modelId }, null);
        Elastic.ValidateNew(settings);
        await Elastic.PrepareAsync(settings, CancellationToken.None);
        return settings;
    }

    /// <summary>What a request runs: preparation, then the client (as the endpoint resolver does).</summary>
    public async Task<IInferenceClient> ResolveAsync(TaskType taskType, string modelId, Guid? organizationId = null)
    {
        var settings = (ElasticEndpointSettings)Elastic.Parse(taskType, new JsonObject { ["model_id"] = modelId }, null);
        await Elastic.PrepareAsync(settings, CancellationToken.None);
        var endpoint = InferenceEndpoint.Create(
            Guid.NewGuid(), organizationId ?? Guid.NewGuid(), InferenceId.Parse("tenant-endpoint"), taskType, ElasticInferenceService.ServiceName,
            settings.ToServiceSettings().ToJsonString(), null, null, null, Clock.GetUtcNow());
        return Elastic.CreateClient(endpoint, settings);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Database.DisposeAsync();
    }

    private async Task SaveAsync(string catalogId, Func<CatalogBackend?, CatalogBackend> assign)
    {
        await using (var context = Database.CreateDbContext())
        {
            var existing = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleOrDefaultAsync(
                context.CatalogBackends, b => b.CatalogModelId == catalogId);
            var backend = assign(existing);
            if (existing is null)
            {
                context.CatalogBackends.Add(backend);
            }

            await context.SaveChangesAsync();
        }

        await Catalog.ReloadAsync(CancellationToken.None);
    }
}

/// <summary>
/// A stand-in for a remote provider (the one boundary faked here): a registered service with a secret <c>api_key</c>, whose
/// clients answer fixed embeddings and a chat reply, and which records the connections and settings it was given.
/// </summary>
internal sealed class LoopbackUpstreamService : IInferenceService
{
    public const string ServiceName = "loopback-upstream";

    private readonly List<(InferenceEndpoint Endpoint, LoopbackSettings Settings)> _clients = [];

    public string Name => ServiceName;

    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = [TaskType.TextEmbedding, TaskType.ChatCompletion];

    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(StringComparer.Ordinal) { "api_key" };

    public ServiceConfiguration Configuration { get; } = new(ServiceName, "Loopback", [TaskType.TextEmbedding, TaskType.ChatCompletion],
    [
        KeyValuePair.Create("api_key", new ServiceSettingField("API key", "The key.", true, true, true, SettingFieldType.Text, null, [TaskType.TextEmbedding, TaskType.ChatCompletion])),
        KeyValuePair.Create("model_id", new ServiceSettingField("Model", "The provider's model.", true, false, false, SettingFieldType.Text, null, [TaskType.TextEmbedding, TaskType.ChatCompletion])),
    ]);

    /// <summary>The connections clients were made for, with their settings, in order.</summary>
    public IReadOnlyList<(InferenceEndpoint Endpoint, LoopbackSettings Settings)> Clients
    {
        get
        {
            lock (_clients)
            {
                return [.. _clients];
            }
        }
    }

    public bool SupportsStreaming(TaskType taskType) => taskType == TaskType.ChatCompletion;

    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        if (!SupportedTaskTypes.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{ServiceName}] service does not support task type [{taskType.ToWireName()}]");
        }

        var map = new JsonSettings(serviceSettings, "service_settings");
        var settings = new LoopbackSettings
        {
            TaskType = taskType,
            ApiKey = map.RequiredString("api_key"),
            ModelId = map.RequiredString("model_id"),
            TaskSettings = taskSettings?.DeepClone().AsObject() ?? [],
        };
        map.ThrowIfNotEmpty(ServiceName);
        return settings;
    }

    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        var typed = (LoopbackSettings)settings;
        lock (_clients)
        {
            _clients.Add((endpoint, typed));
        }

        return typed.TaskType == TaskType.TextEmbedding
            ? new InferenceClient { TextEmbedding = new FixedEmbeddings() }
            : new InferenceClient();
    }

    internal sealed record LoopbackSettings : EndpointSettings
    {
        public required string ApiKey { get; init; }

        public required string ModelId { get; init; }

        public override JsonObject ToServiceSettings() => new() { ["api_key"] = ApiKey, ["model_id"] = ModelId };
    }

    private sealed class FixedEmbeddings : IDenseEmbeddingGenerator
    {
        public Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new DenseEmbeddingResult([.. inputs.Select(_ => new DenseEmbedding([1f, 0f, 0f], false))], new UsageDetails(inputs.Count, 0)));
    }
}
