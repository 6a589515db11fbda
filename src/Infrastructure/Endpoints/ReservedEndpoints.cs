using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// The reserved default endpoints every organization has (CONTRACT.md). They are created lazily, the first time an
/// organization's endpoints are touched, as <see cref="InferenceEndpoint.IsReserved"/> rows; their models may still be
/// absent (downloaded on first use), which does not keep them out of GET. Singleton; remembers seeded organizations.
/// </summary>
public sealed class ReservedEndpoints(TimeProvider time)
{
    private static readonly JsonObject Adaptive = new()
    {
        ["enabled"] = true,
        ["min_number_of_allocations"] = 0,
        ["max_number_of_allocations"] = 32,
    };

    private readonly ConcurrentDictionary<Guid, bool> _seeded = new();

    /// <summary>The reserved endpoints: id, task type, service and service settings.</summary>
    public static IReadOnlyList<(string Id, TaskType TaskType, string Service, JsonObject ServiceSettings)> Definitions { get; } =
    [
        (".elser-2-elasticsearch", TaskType.SparseEmbedding, ElasticsearchInferenceService.ServiceName, Embedded(".elser_model_2")),
        (".multilingual-e5-small-elasticsearch", TaskType.TextEmbedding, ElasticsearchInferenceService.ServiceName, Embedded(".multilingual-e5-small")),
        (".rerank-v1-elasticsearch", TaskType.Rerank, ElasticsearchInferenceService.ServiceName, Embedded(".rerank-v1")),
        (".starter-embedding-elasticsearch", TaskType.TextEmbedding, ElasticsearchInferenceService.ServiceName, Embedded(".starter-embedding")),
        (".starter-sparse-elasticsearch", TaskType.SparseEmbedding, ElasticsearchInferenceService.ServiceName, Embedded(".starter-sparse")),
        (".starter-rerank-elasticsearch", TaskType.Rerank, ElasticsearchInferenceService.ServiceName, Embedded(".starter-rerank")),
        (".chat-elastic", TaskType.ChatCompletion, "elastic", new JsonObject { ["model_id"] = ".demo-chat" }),
    ];

    /// <summary>Whether <paramref name="inferenceId"/> is one of the reserved default endpoints.</summary>
    public static bool IsDefault(string inferenceId) => Definitions.Any(d => d.Id == inferenceId);

    /// <summary>Adds the organization's missing reserved endpoints (once per organization and process).</summary>
    public async Task EnsureAsync(WebConsoleDbContext db, Guid organizationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (_seeded.ContainsKey(organizationId))
        {
            return;
        }

        var existing = await db.InferenceEndpoints.IgnoreQueryFilters()
            .Where(e => e.OrganizationId == organizationId && e.IsReserved)
            .Select(e => e.InferenceId)
            .ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var added = new List<InferenceEndpoint>();
        foreach (var (id, taskType, service, settings) in Definitions)
        {
            if (!existing.Any(e => e.Value == id))
            {
                added.Add(InferenceEndpoint.CreateReserved(
                    Guid.NewGuid(), organizationId, InferenceId.Parse(id), taskType, service, settings.ToJsonString(), null, null, now));
            }
        }

        if (added.Count > 0)
        {
            db.InferenceEndpoints.AddRange(added);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another request seeded the same organization at the same moment: its rows stand.
                foreach (var endpoint in added)
                {
                    db.Entry(endpoint).State = EntityState.Detached;
                }
            }
        }

        _seeded[organizationId] = true;
    }

    private static JsonObject Embedded(string modelId) => new()
    {
        ["num_threads"] = 1,
        ["model_id"] = modelId,
        ["adaptive_allocations"] = Adaptive.DeepClone(),
    };
}
