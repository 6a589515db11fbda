using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.Infrastructure.SqlServer;

namespace WebConsole.Unit.Persistence;

public sealed class ProviderSelectionTests
{
    private static readonly IDatabaseProvider[] Providers = [SqliteDatabase.Provider, SqlServerDatabase.Provider];

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Sqlite_is_the_default_with_a_file_in_the_data_directory()
    {
        var selection = PersistenceServiceCollectionExtensions.Select(Config(("WebConsole:DataDirectory", "state")), "/srv/app", Providers);
        Assert.Same(SqliteDatabase.Provider, selection.Provider);
        Assert.Equal("Data Source=/srv/app/state/webconsole.db", selection.ConnectionString);
    }

    [Fact]
    public void The_provider_setting_picks_a_provider_case_insensitively()
    {
        var selection = PersistenceServiceCollectionExtensions.Select(
            Config(("Database:Provider", "sqlserver"), ("ConnectionStrings:WebConsole", "Server=db")), "/srv/app", Providers);
        Assert.Same(SqlServerDatabase.Provider, selection.Provider);
        Assert.Equal("Server=db", selection.ConnectionString);
    }

    [Fact]
    public void An_unknown_provider_names_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            PersistenceServiceCollectionExtensions.Select(Config(("Database:Provider", "Oracle")), "/srv/app", Providers));
        Assert.Contains("Database:Provider", error.Message, StringComparison.Ordinal);
        Assert.Contains("Sqlite, SqlServer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_provider_needs_a_connection_string()
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            PersistenceServiceCollectionExtensions.Select(Config(("Database:Provider", "SqlServer")), "/srv/app", Providers));
        Assert.Contains("ConnectionStrings:WebConsole", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_with_the_default_provider_creates_migrates_and_seeds_a_sqlite_file()
    {
        var directory = Path.Combine(Path.GetTempPath(), "webconsole-unit-" + Guid.NewGuid().ToString("N"));
        try
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration["WebConsole:DataDirectory"] = Path.Combine(directory, "data");
            builder.AddWebConsolePersistence(Providers);
            using var host = builder.Build();
            await host.Services.MigrateWebConsoleDatabaseAsync();

            Assert.True(File.Exists(Path.Combine(directory, "data", "webconsole.db")));
            await using var scope = host.Services.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<WebConsoleDbContext>();
            Assert.Equal(27, await context.CatalogModels.CountAsync());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
