using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using Radzen;
using WebConsole.Inference;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;
using WebConsole.Infrastructure;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Models;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.PostgreSql;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.Infrastructure.SqlServer;
using WebConsole.Infrastructure.Text;
using WebConsole.Web.Apis;
using WebConsole.Web.Apis.Inference;
using WebConsole.Web.Apis.OpenAi;
using WebConsole.Web.Apis.Playground;
using WebConsole.Web.Components;
using WebConsole.Web.Components.Account;
using WebConsole.Web.Health;
using WebConsole.Web.Security;

namespace WebConsole.Web.Hosting;

/// <summary>The composition root: every layer's services, start-up preparation and the request pipeline.</summary>
internal static class WebConsoleWeb
{
    public static IHostApplicationBuilder AddWebConsoleWeb(this WebApplicationBuilder builder)
    {
        // Static web assets (Radzen's scripts and styles, our wwwroot) are resolved from the build's manifest in every
        // environment, not only Development, so a plain `dotnet WebConsole.Web.dll` serves them too.
        builder.WebHost.UseStaticWebAssets();

        // Bodies are small everywhere but on the inference routes, which raise the limit per request to
        // Inference:Api:MaxRequestBodyBytes; anything else over Kestrel:Limits:MaxRequestBodySize (1 MiB) is a 413.
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Limits.MaxRequestBodySize = context.Configuration.GetValue<long?>("Kestrel:Limits:MaxRequestBodySize") ?? 1024 * 1024);

        builder.AddInference();
        builder.AddInfrastructure(SqliteDatabase.Provider, PostgreSqlDatabase.Provider, SqlServerDatabase.Provider);

        // The model store defaults to the data directory's models/ folder.
        builder.Services.AddOptions<ModelRegistryOptions>()
            .PostConfigure<IOptions<WebConsoleOptions>, IHostEnvironment>((models, options, environment) =>
                models.ModelStorePath ??= Path.Combine(options.Value.ResolveDataDirectory(environment.ContentRootPath), "models"));

        // Data Protection keys (antiforgery, circuits, later the secrets at rest) live in the data directory.
        builder.Services.AddDataProtection().SetApplicationName("WebConsole");
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<WebConsoleOptions>, IHostEnvironment, ILoggerFactory>((keys, options, environment, logging) =>
                keys.XmlRepository = new FileSystemXmlRepository(
                    new DirectoryInfo(Path.Combine(options.Value.ResolveDataDirectory(environment.ContentRootPath), "keys")), logging));

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddRadzenComponents();
        builder.Services.AddWebConsoleHealthChecks();

        // Issue 4 (C): API key and cookie authentication, the four policies, the request's tenant; the audit log the key
        // service writes to.
        builder.Services.AddWebConsoleAudit();
        builder.Services.AddWebConsoleSecurity();

        // Issue 4 (W): the portal's local accounts (password check, cookie principal, password change).
        builder.Services.AddPortalAccounts();

        // Issue 4 (P): /api management services, the audit trail with the request as its origin, secrets at rest.
        builder.Services.AddManagementApi();

        // Issue 5 (X): perform inference on /_inference and the OpenAI-compatible /v1, their limits and usage hook.
        builder.Services.AddInferenceApi();

        // Issue 8: prices and the usage ledger (group-committed usage records, the cost in the usage headers).
        builder.Services.AddWebConsoleBilling();

        // Issue 7: chunking (ICU segmentation) for chunked inference on /_inference and the chunking preview on /api.
        builder.Services.AddChunking();

        // Issue 11: the chat hub (/hubs/chat) and the playground's conversations.
        builder.Services.AddChatHub();
        builder.Services.AddPlayground();

        // Issue 5 (E): inference services, endpoint CRUD, reserved endpoints, references that block deletion.
        builder.Services.AddInferenceEndpoints();

        // Issue 6: the model store (hub downloads with progress, user imports, the offline starter pack) and the `elastic`
        // service that serves the demo chat model behind .chat-elastic.
        builder.Services.AddModelStore();

        // Issue 5 (K): an OpenAPI document of the /api routes and the wire surfaces (/_inference, /_ml, /_security, /v1),
        // served at /openapi/v1.json so API clients and code generators can find them without reading the source.
        builder.Services.AddOpenApi(options => options.AddWireSurfaces());
        return builder;
    }

    /// <summary>Validates every setting, creates the data directory, migrates and seeds the database, and logs what runs.</summary>
    public static async Task PrepareWebConsoleAsync(this WebApplication app)
    {
        // Settings are validated before anything touches the disk, so a wrong one stops start-up naming its key.
        try
        {
            app.Services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (Exception ex) when (ex is AggregateException or InvalidOperationException)
        {
            // Several options may fail on one wrong setting (one options type reads another), and the configuration
            // binder fails with its own exception ("Failed to convert configuration value 'tpu' at 'Inference:Device'"):
            // report each distinct failure once.
            var failures = (ex is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [ex])
                .SelectMany(inner => inner is OptionsValidationException validation ? validation.Failures : [inner.Message])
                .Distinct(StringComparer.Ordinal)
                .ToList();
            throw new OptionsValidationException("configuration", typeof(IConfiguration), failures);
        }

        var options = app.Services.GetRequiredService<IOptions<WebConsoleOptions>>().Value;
        var dataDirectory = options.ResolveDataDirectory(app.Environment.ContentRootPath);
        Directory.CreateDirectory(dataDirectory);

        var database = app.Services.GetRequiredService<DatabaseSelection>();
        await app.Services.MigrateWebConsoleDatabaseAsync(app.Lifetime.ApplicationStopping);

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("WebConsole.Startup");
        StartupLog.DatabaseReady(log, dataDirectory, database.Provider.Name);
        var runtime = app.Services.GetRequiredService<IInferenceRuntimeProbe>().Check();
        if (runtime.Runtime is { } info)
        {
            StartupLog.InferenceRuntime(log, info.Version, string.Join(", ", info.AvailableProviders),
                app.Services.GetRequiredService<IOptions<InferenceOptions>>().Value.Device);
        }
        else
        {
            StartupLog.InferenceRuntimeUnavailable(log, runtime.Reason);
        }

        try
        {
            var icu = app.Services.GetRequiredService<IcuTextSegmenter>();
            StartupLog.Icu(log, icu.IcuVersion, icu.Library.LibraryName);
        }
        catch (DllNotFoundException ex)
        {
            StartupLog.IcuUnavailable(log, ex.Message);
        }
    }

    // Blazor's own plumbing (the circuit hub and its negotiate/disconnect/initializers routes, the enhanced-navigation
    // redirect) carries no data: pages are authorized by [Authorize] through AuthorizeRouteView, inside a circuit too. Marking it public explicitly keeps the route-table test's rule "declared or explicitly public".
    private static void MarkFrameworkEndpointsPublic(EndpointBuilder endpoint)
    {
        if (endpoint is RouteEndpointBuilder { RoutePattern.RawText: { } pattern }
            && endpoint.Metadata.OfType<Microsoft.AspNetCore.Components.Endpoints.ComponentTypeMetadata>().FirstOrDefault() is null
            && (pattern.StartsWith("/_blazor", StringComparison.Ordinal) || pattern.StartsWith("/_framework/", StringComparison.Ordinal)))
        {
            endpoint.Metadata.Add(new Microsoft.AspNetCore.Authorization.AllowAnonymousAttribute());
        }
    }

    public static WebApplication UseWebConsoleWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }

        app.UseSecurityHeaders();

        // Issue 5 (X): X-Elastic-Product on every Elasticsearch-shaped answer (401s included) and its vendor media type.
        app.UseElasticsearchCompatibility();

        // Authentication and authorization run before antiforgery and every endpoint; routes are public only when they
        // say so (tests/E2E/Security checks the whole route table).
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        app.MapBlazorScript().AllowAnonymous();
        app.MapHealthApi().AllowAnonymous();
        app.MapSecurityApi();
        app.MapManagementApi();
        app.MapInferenceEndpointsApi();
        app.MapPerformInferenceApi();
        app.MapChunkInferenceApi();
        app.MapChunkPreviewApi();
        app.MapOpenAiApi();
        app.MapChatHub();
        app.MapAccountEndpoints();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().Add(MarkFrameworkEndpointsPublic);
        return app;
    }
}

internal static partial class StartupLog
{
    [LoggerMessage(1, LogLevel.Information, "Data directory {DataDirectory}; database {DatabaseProvider} migrated and seeded")]
    public static partial void DatabaseReady(ILogger logger, string dataDirectory, string databaseProvider);

    [LoggerMessage(2, LogLevel.Information, "ONNX Runtime {OrtVersion}; execution providers {Providers}; Inference:Device {Device}")]
    public static partial void InferenceRuntime(ILogger logger, string ortVersion, string providers, InferenceDevice device);

    [LoggerMessage(3, LogLevel.Error, "ONNX Runtime is unavailable: {Reason}")]
    public static partial void InferenceRuntimeUnavailable(ILogger logger, string? reason);

    [LoggerMessage(4, LogLevel.Information, "ICU {IcuVersion} from {IcuLibrary}")]
    public static partial void Icu(ILogger logger, Version icuVersion, string icuLibrary);

    [LoggerMessage(5, LogLevel.Error, "ICU is unavailable, text chunking will fail: {Reason}")]
    public static partial void IcuUnavailable(ILogger logger, string reason);
}
