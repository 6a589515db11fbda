using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Hosting;

public sealed class StartupTests
{
    [Theory]
    [InlineData("Database:Provider", "Oracle", "Database:Provider is 'Oracle'")]
    [InlineData("WebConsole:Bootstrap:ApiKey", "too-short", "WebConsole:Bootstrap:ApiKey must be a secret of at least 32 characters")]
    [InlineData("Inference:Device", "tpu", "Inference:Device")]
    [InlineData("WebConsole:DataDirectory", "", "WebConsole:DataDirectory must name a folder")]
    public async Task A_wrong_setting_stops_start_up_with_a_line_naming_its_key(string key, string value, string expected)
    {
        var (exitCode, output) = await WebConsoleServer.RunUntilExitAsync(
            new Dictionary<string, string?> { [key] = value }, TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(output.Split('\n'), l => l.StartsWith("Invalid configuration:", StringComparison.Ordinal));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restarted_server_keeps_its_database_and_data_protection_keys()
    {
        await using var server = await WebConsoleServer.StartAsync();
        var keys = Path.Combine(server.DataDirectory, "keys");
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "webconsole.db")), server.Log);

        // Blazor's first page render creates the Data Protection key ring in the data directory.
        using (var client = server.CreateClient())
        {
            (await client.GetAsync(new Uri("/", UriKind.Relative))).EnsureSuccessStatusCode();
        }

        var keyFiles = Directory.GetFiles(keys, "key-*.xml");
        Assert.NotEmpty(keyFiles);

        await server.RestartAsync();
        using (var client = server.CreateClient())
        {
            (await client.GetAsync(new Uri("/", UriKind.Relative))).EnsureSuccessStatusCode();
            var health = await client.GetStringAsync(new Uri("healthz", UriKind.Relative));
            Assert.Contains("27 catalog models", health, StringComparison.Ordinal);
        }

        Assert.Equal(keyFiles.Order(), Directory.GetFiles(keys, "key-*.xml").Order());
    }
}
