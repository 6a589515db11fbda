using Microsoft.AspNetCore.DataProtection;
using Radzen;
using WebConsole.Web.Components;
using WebConsole.Web.Health;

namespace WebConsole.Web.Hosting;

/// <summary>The composition root: the Web layer's services and request pipeline.</summary>
internal static class WebConsoleWeb
{
    public static IHostApplicationBuilder AddWebConsoleWeb(this IHostApplicationBuilder builder)
    {
        // Static web assets (Radzen's scripts and styles, our wwwroot) are resolved from the build's manifest in every
        // environment, not only Development, so `dotnet run` in Production serves them too.
        if (builder is WebApplicationBuilder web)
        {
            web.WebHost.UseStaticWebAssets();
        }

        builder.AddWebConsoleInfrastructure();

        var dataDirectory = builder.Services.BuildDataDirectory(builder.Configuration, builder.Environment);
        builder.Services.AddDataProtection()
            .SetApplicationName("WebConsole")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddRadzenComponents();
        builder.Services.AddWebConsoleHealthChecks();
        builder.Services.AddProblemDetails();
        return builder;
    }

    public static WebApplication UseWebConsoleWeb(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }

        app.UseStatusCodePages();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapBlazorScript();
        app.MapHealthApi();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
