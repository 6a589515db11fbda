using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace WebConsole.E2E.Infrastructure;

/// <summary>
/// The real WebConsole server as a child process on a free loopback port, with its own data directory. Tests talk to it
/// over real HTTP (and later kill and restart it); its output is kept for failure messages.
/// </summary>
public sealed class WebConsoleServer : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly Dictionary<string, string?> _environment;
    private Process? _process;

    private WebConsoleServer(string dataDirectory, int port, Dictionary<string, string?> environment)
    {
        DataDirectory = dataDirectory;
        Port = port;
        _environment = environment;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri BaseAddress { get; }

    public int Port { get; }

    public string DataDirectory { get; }

    /// <summary>Everything the server printed so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The built Web application (the test project's build records where it is).</summary>
    public static string WebDll { get; } = typeof(WebConsoleServer).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WebConsoleWebDll").Value!;

    /// <summary>Starts a server with a fresh data directory and waits until <c>/healthz</c> answers.</summary>
    public static async Task<WebConsoleServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("webconsole-e2e-").FullName;
        var environment = new Dictionary<string, string?>
        {
            ["WebConsole__DataDirectory"] = dataDirectory,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var server = new WebConsoleServer(dataDirectory, FreePort(), environment);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>
    /// Runs the server with <paramref name="settings"/> and waits for it to exit on its own, for start-up failures; answers
    /// its exit code and output. A server that is still running after <paramref name="timeout"/> is killed and reported.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(IDictionary<string, string?> settings, TimeSpan timeout)
    {
        var server = new WebConsoleServer(Directory.CreateTempSubdirectory("webconsole-e2e-").FullName, FreePort(), []);
        await using (server)
        {
            server._environment["WebConsole__DataDirectory"] = server.DataDirectory;
            foreach (var (key, value) in settings)
            {
                server._environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            var process = server.Launch();
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"WebConsole was still running after {timeout}:\n{server.Log}");
            }

            process.WaitForExit(); // flushes the redirected output
            return (process.ExitCode, server.Log);
        }
    }

    /// <summary>The running process's id (for its memory and CPU figures).</summary>
    public int ProcessId => _process is { HasExited: false } process ? process.Id : throw new InvalidOperationException("The server is not running.");

    /// <summary>A client for this server with a generous timeout (the first request may download or build models).</summary>
    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>A client that authenticates with an encoded API key (the bootstrap key, inference_admin of the default organization, by default).</summary>
    public HttpClient CreateApiKeyClient(string? encodedKey = null)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", encodedKey ?? ServerFixture.BootstrapApiKey);
        return client;
    }

    /// <summary>Stops the process and starts it again on the same port and data directory.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        _process?.Dispose();
        await StartProcessAsync();
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process; the temp folder is cleaned by the OS eventually.
        }
    }

    private async Task StartProcessAsync()
    {
        var process = Launch();
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"WebConsole exited with code {process.ExitCode} during start-up:\n{Log}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"WebConsole did not answer /healthz within 90 s:\n{Log}");
    }

    private Process Launch()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { WebDll, "--urls", BaseAddress.ToString().TrimEnd('/') },
            // The content root holds appsettings.json (copied beside the dll by the build).
            WorkingDirectory = Path.GetDirectoryName(WebDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }

        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        return _process;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
