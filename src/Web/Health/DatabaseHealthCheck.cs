using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Web.Health;

/// <summary>The database answers a query on WebConsole's own schema.</summary>
internal sealed class DatabaseHealthCheck(IDbContextFactory<WebConsoleDbContext> contexts, DatabaseSelection database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["provider"] = database.Provider.Name };
        try
        {
            await using var db = await contexts.CreateDbContextAsync(cancellationToken);
            var models = await db.CatalogModels.CountAsync(cancellationToken);
            data["catalog_models"] = models;
            return HealthCheckResult.Healthy($"{database.Provider.Name}: reachable, {models} catalog models", data);
        }
#pragma warning disable CA1031 // any failure of the database is reported, not thrown
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"{database.Provider.Name}: {ex.Message}", data: data);
        }
    }
}
