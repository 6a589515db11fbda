using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WebConsole.Bench;

/// <summary>
/// A throwaway PostgreSQL cluster on a loopback port from the Debian <c>postgresql</c> binaries, as the end-to-end tests
/// start theirs (as the <c>postgres</c> user under root, since initdb refuses root), but with the default durability
/// settings (fsync, synchronous_commit and full_page_writes on): the ledger's figure must be a durable one.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "webconsole-bench-pg-" + Guid.NewGuid().ToString("N")[..12]);
    private string _bin = string.Empty;
    private bool _started;

    public int Port { get; private set; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=100";

    private static bool Root => Environment.UserName == "root";

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer();
        server._bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderDescending().FirstOrDefault()
              ?? throw new InvalidOperationException("no PostgreSQL binaries under /usr/lib/postgresql (apt-get install postgresql)")
            : throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql)");
        Directory.CreateDirectory(server._root);
        if (Root)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", server._root], asPostgres: false);
        }

        var data = Path.Combine(server._root, "data");
        await RunAsync(Path.Combine(server._bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"], asPostgres: true);
        server.Port = FreePort();
        await RunAsync(Path.Combine(server._bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(server._root, "server.log"), "-o", $"-c listen_addresses=127.0.0.1 -p {server.Port} -k {server._root} -c max_connections=200", "-w", "-t", "60", "start"], asPostgres: true);
        server._started = true;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"], asPostgres: true);
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static async Task RunAsync(string file, string[] arguments, bool asPostgres)
    {
        var info = asPostgres && Root ? new ProcessStartInfo("runuser") { ArgumentList = { "-u", "postgres", "--", file } } : new ProcessStartInfo(file);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.WorkingDirectory = Path.GetTempPath();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
