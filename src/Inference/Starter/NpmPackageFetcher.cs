using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using WebConsole.Inference.ModelStore;

namespace WebConsole.Inference.Starter;

/// <summary>
/// Gives the extracted folder of an npm package, sharing the build's package cache (build/npm/fetch.mjs): a folder
/// <c>&lt;PackagesDirectory&gt;/&lt;name&gt;-&lt;version&gt;/</c> with the <c>.webconsole-fetched</c> stamp is complete and used
/// as it is; otherwise the tarball is downloaded from the registry, checked against the registry's <c>dist.integrity</c>
/// and extracted into a temporary folder that is renamed into place, so a folder that exists is always complete, also when
/// several processes race for the same package. Thread-safe; one download per package at a time in this process.
/// </summary>
public sealed class NpmPackageFetcher
{
    /// <summary>The file that marks a complete package folder (the same as fetch.mjs writes).</summary>
    public const string StampFile = ".webconsole-fetched";

    private const int BufferSize = 1 << 16;
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    private readonly HttpClient _http;
    private readonly StarterPackOptions _options;

    /// <summary>Creates the fetcher over an HTTP client (used for registry requests) and the pack's settings.</summary>
    public NpmPackageFetcher(HttpClient httpClient, StarterPackOptions options)
    {
        _http = httpClient ?? throw new ArgumentNullException(nameof(httpClient));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>
    /// Answers the folder holding the contents of <paramref name="name"/>@<paramref name="version"/> (the tarball's
    /// <c>package/</c> folder), downloading it when the cache lacks it. Progress counts bytes of the tarball.
    /// </summary>
    /// <exception cref="ModelDownloadException">The registry cannot be reached, the package is unknown, or the tarball fails its integrity check.</exception>
    public async Task<string> GetPackageAsync(string name, string version, IProgress<ModelTransferProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        var target = Path.Combine(_options.PackagesDirectory, $"{name.TrimStart('@').Replace('/', '+')}-{version}");
        if (File.Exists(Path.Combine(target, StampFile)))
        {
            return target;
        }

        var gate = Gates.GetOrAdd(Path.GetFullPath(target), _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(Path.Combine(target, StampFile)))
            {
                await FetchAsync(name, version, target, progress, cancellationToken);
            }

            return target;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task FetchAsync(string name, string version, string target, IProgress<ModelTransferProgress>? progress, CancellationToken cancellationToken)
    {
        var spec = $"{name}@{version}";
        var registry = _options.NpmRegistry.EndsWith('/') ? _options.NpmRegistry : _options.NpmRegistry + "/";
        var integrity = await ReadIntegrityAsync(registry, name, version, spec, cancellationToken);

        // npm pack's file name: scope-name-version.tgz; the registry path: @scope/name/-/name-version.tgz.
        var baseName = name[(name.LastIndexOf('/') + 1)..];
        var tarballName = $"{name.TrimStart('@').Replace('/', '-')}-{version}.tgz";
        var tarballUri = new Uri($"{registry}{name}/-/{baseName}-{version}.tgz");

        Directory.CreateDirectory(_options.PackagesDirectory);
        var work = Path.Combine(_options.PackagesDirectory, ".tmp-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        try
        {
            var tarball = Path.Combine(work, tarballName);
            var digest = await DownloadAsync(tarballUri, tarball, integrity.Algorithm, spec, progress, cancellationToken);
            if (!CryptographicOperations.FixedTimeEquals(digest, integrity.Digest))
            {
                throw new ModelDownloadException(
                    $"{spec} from {tarballUri} fails its integrity check: the registry states {integrity.Text}, the download hashes to {integrity.Prefix}{Convert.ToBase64String(digest)}.");
            }

            var unpacked = Path.Combine(work, "x");
            Directory.CreateDirectory(unpacked);
            try
            {
                await using var file = File.OpenRead(tarball);
                await using var gzip = new GZipStream(file, CompressionMode.Decompress);
                await TarFile.ExtractToDirectoryAsync(gzip, unpacked, overwriteFiles: true, cancellationToken);
            }
            catch (Exception exception) when (exception is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                throw new ModelDownloadException($"{spec}: the tarball cannot be extracted: {exception.Message}", exception);
            }

            // npm tarballs hold one top-level folder, almost always package/.
            var entries = Directory.GetFileSystemEntries(unpacked);
            var root = entries.Length == 1 && Directory.Exists(entries[0]) ? entries[0] : unpacked;
            await File.WriteAllTextAsync(
                Path.Combine(root, StampFile),
                $"{spec}\n{tarballName}\n{DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}\n",
                cancellationToken);
            try
            {
                Directory.Move(root, target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, StampFile)))
            {
                // Another process finished first: its copy is complete, ours is redundant.
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new ModelDownloadException($"{spec} could not be moved into {target}: {exception.Message}", exception);
            }
        }
        finally
        {
            TryDelete(work);
        }
    }

    private async Task<Integrity> ReadIntegrityAsync(string registry, string name, string version, string spec, CancellationToken cancellationToken)
    {
        // The registry answers one version's manifest at <name>/<version>; a scoped name keeps its '/' escaped.
        var uri = new Uri($"{registry}{name.Replace("/", "%2F", StringComparison.Ordinal)}/{Uri.EscapeDataString(version)}");
        JsonElement manifest;
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ModelDownloadException($"The npm registry answered {(int)response.StatusCode} {response.ReasonPhrase} for {spec} ({uri}).");
            }

            manifest = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (HttpRequestException exception)
        {
            throw new ModelDownloadException($"The npm registry {registry} could not be reached while fetching {spec}: {exception.Message}", exception);
        }
        catch (JsonException exception)
        {
            throw new ModelDownloadException($"The npm registry's manifest of {spec} is not JSON: {exception.Message}", exception);
        }
        catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ModelDownloadException($"The npm registry {registry} timed out while fetching {spec}.", exception);
        }

        var dist = manifest.ValueKind == JsonValueKind.Object && manifest.TryGetProperty("dist", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
        if (dist.ValueKind == JsonValueKind.Object
            && dist.TryGetProperty("integrity", out var sri) && sri.ValueKind == JsonValueKind.String
            && Integrity.FromSri(sri.GetString()!) is { } fromSri)
        {
            return fromSri;
        }

        // Packages published before npm 5 state only a SHA-1 hex digest.
        if (dist.ValueKind == JsonValueKind.Object
            && dist.TryGetProperty("shasum", out var shasum) && shasum.ValueKind == JsonValueKind.String
            && Integrity.FromSha1Hex(shasum.GetString()!) is { } fromSha1)
        {
            return fromSha1;
        }

        throw new ModelDownloadException($"The npm registry's manifest of {spec} states no sha512 integrity (dist.integrity).");
    }

    private async Task<byte[]> DownloadAsync(
        Uri uri, string path, HashAlgorithmName algorithm, string spec, IProgress<ModelTransferProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ModelDownloadException($"The npm registry answered {(int)response.StatusCode} {response.ReasonPhrase} for {uri}.");
            }

            var total = response.Content.Headers.ContentLength;
            var phase = $"downloading {spec}";
            progress?.Report(new ModelTransferProgress(0, total, phase));
            using var hash = IncrementalHash.CreateHash(algorithm);
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            var buffer = new byte[BufferSize];
            long done = 0, reported = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                done += read;
                if (done - reported >= 1 << 20)
                {
                    progress?.Report(new ModelTransferProgress(done, total, phase));
                    reported = done;
                }
            }

            progress?.Report(new ModelTransferProgress(done, total ?? done, phase));
            return hash.GetHashAndReset();
        }
        catch (HttpRequestException exception)
        {
            throw new ModelDownloadException($"The npm registry could not be reached while downloading {spec} ({uri}): {exception.Message}", exception);
        }
        catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ModelDownloadException($"The download of {spec} ({uri}) timed out.", exception);
        }
        catch (IOException exception)
        {
            throw new ModelDownloadException($"{spec} could not be downloaded into {path}: {exception.Message}", exception);
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is harmless: its name never matches a package folder.
        }
    }

    // A Subresource Integrity value: "sha512-<base64>" (several space-separated hashes may be listed; the strongest is used).
    private sealed record Integrity(HashAlgorithmName Algorithm, string Prefix, byte[] Digest, string Text)
    {
        public static Integrity? FromSri(string text)
        {
            Integrity? best = null;
            foreach (var entry in text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var dash = entry.IndexOf('-', StringComparison.Ordinal);
                if (dash <= 0)
                {
                    continue;
                }

                // An option suffix ("?foo") is allowed by the SRI grammar.
                var value = entry[(dash + 1)..].Split('?')[0];
                HashAlgorithmName? algorithm = entry[..dash] switch
                {
                    "sha512" => HashAlgorithmName.SHA512,
                    "sha384" => HashAlgorithmName.SHA384,
                    "sha256" => HashAlgorithmName.SHA256,
                    _ => null,
                };
                if (algorithm is not { } known || !TryBase64(value, out var digest))
                {
                    continue;
                }

                var candidate = new Integrity(known, entry[..(dash + 1)], digest, entry);
                if (best is null || Strength(known) > Strength(best.Algorithm))
                {
                    best = candidate;
                }
            }

            return best;
        }

        public static Integrity? FromSha1Hex(string hex)
        {
            try
            {
                return hex.Length == 40 ? new Integrity(HashAlgorithmName.SHA1, "sha1-", Convert.FromHexString(hex), $"shasum {hex}") : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        private static int Strength(HashAlgorithmName algorithm) =>
            algorithm == HashAlgorithmName.SHA512 ? 3 : algorithm == HashAlgorithmName.SHA384 ? 2 : 1;

        private static bool TryBase64(string value, out byte[] digest)
        {
            digest = new byte[value.Length];
            if (Convert.TryFromBase64String(value, digest, out var written))
            {
                digest = digest[..written];
                return true;
            }

            return false;
        }
    }
}
