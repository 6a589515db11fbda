using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter;

namespace WebConsole.Unit.Inference.Starter;

// NpmPackageFetcher against a registry on loopback Kestrel serving a generated tarball, with right and wrong integrity.
public sealed class NpmPackageFetcherTests : IAsyncLifetime
{
    private static readonly byte[] Tarball = CreateTarball(("package/package.json", """{"name":"demo-pkg","version":"1.0.0"}"""), ("package/data/words.txt", "alpha\nbeta\n"));
    private static readonly byte[] OtherTarball = CreateTarball(("package/package.json", """{"name":"evil"}"""));

    private readonly string _packages = Path.Combine(Path.GetTempPath(), "webconsole-npm-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<string> _requests = [];
    private WebApplication _registry = null!;
    private string _url = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _registry = builder.Build();
        _registry.Use(async (context, next) =>
        {
            lock (_requests)
            {
                _requests.Add(context.Request.Path.Value!);
            }

            await next(context);
        });

        // demo-pkg states the integrity of the tarball it serves; bad-pkg states the integrity of other bytes.
        _registry.MapGet("/demo-pkg/1.0.0", () => Results.Json(Manifest("demo-pkg", Tarball)));
        _registry.MapGet("/demo-pkg/-/demo-pkg-1.0.0.tgz", () => Results.Bytes(Tarball, "application/octet-stream"));
        _registry.MapGet("/bad-pkg/1.0.0", () => Results.Json(Manifest("bad-pkg", OtherTarball)));
        _registry.MapGet("/bad-pkg/-/bad-pkg-1.0.0.tgz", () => Results.Bytes(Tarball, "application/octet-stream"));
        await _registry.StartAsync();
        _url = _registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/";
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        if (Directory.Exists(_packages))
        {
            Directory.Delete(_packages, recursive: true);
        }
    }

    [Fact]
    public async Task A_verified_tarball_is_extracted_with_the_stamp_and_later_calls_use_the_cache()
    {
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, new StarterPackOptions { NpmRegistry = _url, PackagesDirectory = _packages });
        var reports = new List<ModelTransferProgress>();

        var folder = await fetcher.GetPackageAsync("demo-pkg", "1.0.0", new SyncProgress(reports.Add), CancellationToken.None);

        Assert.Equal(Path.Combine(_packages, "demo-pkg-1.0.0"), folder);
        Assert.Equal("alpha\nbeta\n", await File.ReadAllTextAsync(Path.Combine(folder, "data", "words.txt")));
        Assert.Contains("demo-pkg", await File.ReadAllTextAsync(Path.Combine(folder, "package.json")), StringComparison.Ordinal);
        var stamp = (await File.ReadAllTextAsync(Path.Combine(folder, NpmPackageFetcher.StampFile))).Split('\n');
        Assert.Equal(["demo-pkg@1.0.0", "demo-pkg-1.0.0.tgz"], stamp[..2]);
        Assert.Equal(Tarball.Length, reports[^1].Completed);
        Assert.Equal(Tarball.Length, reports[^1].Total);
        Assert.Equal(["demo-pkg-1.0.0"], Directory.GetFileSystemEntries(_packages).Select(Path.GetFileName));

        var again = await fetcher.GetPackageAsync("demo-pkg", "1.0.0", null, CancellationToken.None);
        Assert.Equal(folder, again);
        Assert.Equal(["/demo-pkg/1.0.0", "/demo-pkg/-/demo-pkg-1.0.0.tgz"], _requests);
    }

    [Fact]
    public async Task A_tarball_that_fails_its_integrity_check_is_refused_and_leaves_nothing_behind()
    {
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, new StarterPackOptions { NpmRegistry = _url, PackagesDirectory = _packages });

        var error = await Assert.ThrowsAsync<ModelDownloadException>(() => fetcher.GetPackageAsync("bad-pkg", "1.0.0", null, CancellationToken.None));

        Assert.Contains("integrity", error.Message, StringComparison.Ordinal);
        Assert.Contains("bad-pkg@1.0.0", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_packages));
    }

    [Fact]
    public async Task A_package_folder_with_the_stamp_is_used_without_asking_the_registry()
    {
        var folder = Path.Combine(_packages, "offline-pkg-2.0.0");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, NpmPackageFetcher.StampFile), "offline-pkg@2.0.0\n");
        using var http = new HttpClient();
        var fetcher = new NpmPackageFetcher(http, new StarterPackOptions { NpmRegistry = ClosedPortUrl(), PackagesDirectory = _packages });

        Assert.Equal(folder, await fetcher.GetPackageAsync("offline-pkg", "2.0.0", null, CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_registry_is_a_download_error_naming_registry_and_package()
    {
        using var http = new HttpClient();
        var registry = ClosedPortUrl();
        var fetcher = new NpmPackageFetcher(http, new StarterPackOptions { NpmRegistry = registry, PackagesDirectory = _packages });

        var error = await Assert.ThrowsAsync<ModelDownloadException>(() => fetcher.GetPackageAsync("demo-pkg", "1.0.0", null, CancellationToken.None));

        Assert.Contains(registry, error.Message, StringComparison.Ordinal);
        Assert.Contains("demo-pkg@1.0.0", error.Message, StringComparison.Ordinal);
    }

    private object Manifest(string name, byte[] integrityOf) => new
    {
        name,
        version = "1.0.0",
        dist = new
        {
            integrity = "sha512-" + Convert.ToBase64String(SHA512.HashData(integrityOf)),
            tarball = $"{_url}{name}/-/{name}-1.0.0.tgz",
        },
    };

    private static string ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}/";
    }

    private static byte[] CreateTarball(params (string Name, string Text)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            foreach (var (name, text) in files)
            {
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
            }
        }

        return buffer.ToArray();
    }

    private sealed class SyncProgress(Action<ModelTransferProgress> report) : IProgress<ModelTransferProgress>
    {
        public void Report(ModelTransferProgress value) => report(value);
    }
}
