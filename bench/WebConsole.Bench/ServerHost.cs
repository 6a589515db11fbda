using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;

namespace WebConsole.Bench;

/// <summary>
/// The real WebConsole server (src/Web, Release build) as a child process on a free loopback port with a temporary data
/// directory (SQLite), the bootstrap API key and the benchmark's models registered by configuration, as a user runs it.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    public const string BootstrapSecret = "bench-bootstrap-secret-0123456789abcdef";

    private readonly StringBuilder _log = new();
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("webconsole-bench-").FullName;
    private Process? _process;

    private ServerHost(int port) => BaseAddress = new Uri($"http://127.0.0.1:{port}/");

    public Uri BaseAddress { get; }

    public static string ApiKey { get; } = Convert.ToBase64String(Encoding.UTF8.GetBytes($"bootstrap:{BootstrapSecret}"));

    public string LogTail
    {
        get
        {
            lock (_log)
            {
                var log = _log.ToString();
                return log.Length > 4000 ? log[^4000..] : log;
            }
        }
    }

    public static async Task<ServerHost> StartAsync(string webDll, IDictionary<string, string> settings)
    {
        var host = new ServerHost(FreePort());
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { webDll, "--urls", host.BaseAddress.ToString().TrimEnd('/') },
            WorkingDirectory = Path.GetDirectoryName(webDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["WebConsole__DataDirectory"] = host._dataDirectory;
        info.Environment["WebConsole__Bootstrap__ApiKey"] = BootstrapSecret;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_NOLOGO"] = "1";
        // Request logging at Information costs time on every request; a production deployment logs warnings.
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        host._process = new Process { StartInfo = info };
        host._process.OutputDataReceived += (_, e) => host.Append(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host._process.Start();
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (host._process.HasExited)
            {
                throw new InvalidOperationException($"WebConsole exited during start-up:\n{host.LogTail}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"WebConsole did not answer /healthz:\n{host.LogTail}");
    }

    /// <summary>A client with the bootstrap key and enough connections for the highest concurrency.</summary>
    public HttpClient Client(bool authenticated = true)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        if (authenticated)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", ApiKey);
        }

        return client;
    }

    /// <summary>Creates an inference endpoint of the <c>elasticsearch</c> service on a registered model.</summary>
    public async Task CreateEndpointAsync(HttpClient client, string taskType, string id, string model, int threads, int allocations = 1)
    {
        using var response = await client.PutAsJsonAsync($"/_inference/{taskType}/{id}", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = model, num_allocations = allocations, num_threads = threads },
        });
        await EnsureAsync(response, $"PUT /_inference/{taskType}/{id}");
    }

    public async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{LogTail}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
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
