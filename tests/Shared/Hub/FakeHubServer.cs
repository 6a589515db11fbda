using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebConsole.Tests.Hub;

/// <summary>One request the fake hub got (logged when it arrives; status and bytes fill in as it is answered).</summary>
/// <param name="Kind"><c>list</c> (the API's file list), <c>resolve</c> (a file URL), <c>cdn</c> (where LFS files redirect) or <c>unknown</c>.</param>
/// <param name="Repository">The repository asked for.</param>
/// <param name="Path">The file, for resolve and cdn requests.</param>
/// <param name="Range">The Range header, when sent.</param>
/// <param name="Authorization">The Authorization header, when sent.</param>
public sealed record HubRequest(string Kind, string Repository, string? Path, string? Range, string? Authorization)
{
    private long _bytesSent;

    /// <summary>The status answered (0 until the answer is complete).</summary>
    public int Status { get; internal set; }

    /// <summary>Body bytes of the file sent so far (before any connection drop).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    internal void AddBytes(long count) => Interlocked.Add(ref _bytesSent, count);
}

/// <summary>
/// A Hugging Face-compatible hub on loopback Kestrel (127.0.0.1, a free port or a given one) serving local folders as
/// repositories: <c>GET /api/models/{repo}/revision/{rev}?blobs=true</c> lists the files (with an <c>lfs</c> entry
/// carrying the sha256 for files of at least <see cref="LfsThreshold"/> bytes, as the hub stores big files in LFS) and
/// <c>GET /{repo}/resolve/{rev}/{path}</c> serves them, LFS files through a redirect to <c>/cdn/...</c> with
/// <c>X-Linked-Etag</c> like the real hub. Byte ranges (<c>Range: bytes=N-</c>) are honoured. Every request is logged,
/// and faults can be injected: a connection dropped after N bytes of a file (once or always), wrong content for a file,
/// a bandwidth limit, error statuses, a required token. Thread-safe.
/// </summary>
public sealed class FakeHubServer : IAsyncDisposable
{
    private const int ChunkSize = 16 * 1024;
    private readonly Dictionary<string, Repository> _repositories = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<HubRequest> _requests = new();
    private readonly ConcurrentDictionary<(string Repository, string Path), Drop> _drops = new();
    private readonly ConcurrentDictionary<(string Repository, string Path), bool> _corrupt = new();
    private readonly Lock _failuresGate = new();
    private readonly List<Failure> _failures = [];
    private WebApplication? _app;
    private long _bytesPerSecond;

    private FakeHubServer(IReadOnlyDictionary<string, string> repositories, long lfsThreshold)
    {
        LfsThreshold = lfsThreshold;
        foreach (var (id, folder) in repositories)
        {
            _repositories[id] = new Repository(id, folder);
        }
    }

    /// <summary>The size from which a file is listed as an LFS file with its sha256 (the real hub: 10 MB; smaller here).</summary>
    public long LfsThreshold { get; }

    /// <summary>The hub's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The port it listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Whether LFS files are served through a redirect to <c>/cdn/</c> (as the real hub does). Default true.</summary>
    public bool RedirectLfsFiles { get; set; } = true;

    /// <summary>Whether the file list carries <c>lfs</c> entries with sha256s (a plain mirror may not). Default true.</summary>
    public bool ListLfsChecksums { get; set; } = true;

    /// <summary>When set, list and resolve requests without <c>Authorization: Bearer {token}</c> get 401.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>Every request so far, in order of arrival.</summary>
    public IReadOnlyList<HubRequest> Requests => [.. _requests];

    /// <summary>Starts a hub serving <paramref name="repositories"/> (repository id → local folder).</summary>
    /// <param name="repositories">The repositories and their folders.</param>
    /// <param name="port">The port, or 0 for a free one.</param>
    /// <param name="lfsThreshold">See <see cref="LfsThreshold"/>.</param>
    public static async Task<FakeHubServer> StartAsync(IReadOnlyDictionary<string, string> repositories, int port = 0, long lfsThreshold = 100_000)
    {
        ArgumentNullException.ThrowIfNull(repositories);
        var server = new FakeHubServer(repositories, lfsThreshold);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server.Port = address.Port;
        server.BaseUrl = $"http://127.0.0.1:{address.Port}";
        return server;
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on (it was free a moment ago).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The commit the fake repository <paramref name="repository"/> stands at (its <c>main</c>).</summary>
    public string CommitOf(string repository) => _repositories[repository].Commit;

    /// <summary>The sha256 (lowercase hex) of a served file's real content.</summary>
    public string Sha256Of(string repository, string path) => _repositories[repository].Files[path].Sha256;

    /// <summary>The size of a served file.</summary>
    public long SizeOf(string repository, string path) => _repositories[repository].Files[path].Size;

    /// <summary>How many times <paramref name="path"/> of <paramref name="repository"/> was asked for at its resolve URL.</summary>
    public int ResolveCount(string repository, string path) =>
        _requests.Count(r => r.Kind == "resolve" && r.Repository == repository && r.Path == path);

    /// <summary>How many file-list requests <paramref name="repository"/> got.</summary>
    public int ListCount(string repository) => _requests.Count(r => r.Kind == "list" && r.Repository == repository);

    /// <summary>The bytes of <paramref name="path"/> sent in all, over every request (resolve or cdn).</summary>
    public long BytesServed(string repository, string path) =>
        _requests.Where(r => r.Repository == repository && r.Path == path).Sum(r => r.BytesSent);

    /// <summary>The Range headers of the requests at the resolve URL of <paramref name="path"/> (null where none was sent).</summary>
    public IReadOnlyList<string?> RangesRequested(string repository, string path) =>
        [.. _requests.Where(r => r.Kind == "resolve" && r.Repository == repository && r.Path == path).Select(r => r.Range)];

    /// <summary>Closes the connection after <paramref name="bytes"/> bytes of a response carrying the file: once, or on every response.</summary>
    public void DropConnectionAfter(string repository, string path, long bytes, bool always = false) =>
        _drops[(repository, path)] = new Drop(bytes, always);

    /// <summary>Serves bytes other than the file's (same length), so its checksum does not match the listing.</summary>
    public void ServeWrongContent(string repository, string path) => _corrupt[(repository, path)] = true;

    /// <summary>Limits every file body to <paramref name="bytesPerSecond"/> (0: no limit).</summary>
    public void Throttle(long bytesPerSecond) => Interlocked.Exchange(ref _bytesPerSecond, bytesPerSecond);

    /// <summary>
    /// Answers the next <paramref name="count"/> requests (for <paramref name="path"/> only, when given) with
    /// <paramref name="statusCode"/> and an error body.
    /// </summary>
    public void FailRequests(int statusCode, int count = int.MaxValue, string? path = null)
    {
        lock (_failuresGate)
        {
            _failures.Add(new Failure(statusCode, path) { Remaining = count });
        }
    }

    /// <summary>Removes every injected fault (drops, wrong content, throttle, error statuses).</summary>
    public void ClearFaults()
    {
        _drops.Clear();
        _corrupt.Clear();
        Throttle(0);
        lock (_failuresGate)
        {
            _failures.Clear();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var range = context.Request.Headers.Range.ToString() is { Length: > 0 } r ? r : null;
        var authorization = context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? a : null;
        var (kind, repositoryId, revision, filePath) = Route(path);
        var record = new HubRequest(kind, repositoryId, filePath, range, authorization);
        _requests.Enqueue(record);
        try
        {
            if (kind == "unknown")
            {
                await ErrorAsync(context, 404, null, "Not found");
                return;
            }

            if (TakeFailure(filePath) is { } failure)
            {
                await ErrorAsync(context, failure, null, "Injected failure");
                return;
            }

            if (kind != "cdn" && RequiredToken is { } token && authorization != $"Bearer {token}")
            {
                await ErrorAsync(context, 401, null, "Invalid credentials in Authorization header");
                return;
            }

            if (!_repositories.TryGetValue(repositoryId, out var repository))
            {
                await ErrorAsync(context, 404, "RepoNotFound", "Repository not found");
                return;
            }

            if (revision != "main" && revision != repository.Commit)
            {
                await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
                return;
            }

            if (kind == "list")
            {
                await ListAsync(context, repository);
                return;
            }

            if (filePath is null || !repository.Files.TryGetValue(filePath, out var file))
            {
                await ErrorAsync(context, 404, "EntryNotFound", $"{filePath} does not exist on \"{revision}\"");
                return;
            }

            var lfs = file.Size >= LfsThreshold;
            if (kind == "resolve" && lfs && RedirectLfsFiles)
            {
                context.Response.StatusCode = StatusCodes.Status302Found;
                context.Response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
                context.Response.Headers["X-Linked-Size"] = file.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
                context.Response.Headers.Location = $"/cdn/{repository.Commit}/{filePath}";
                return;
            }

            await ServeFileAsync(context, record, repository, filePath, file, range, lfs);
        }
        finally
        {
            record.Status = context.Response.StatusCode;
        }
    }

    private (string Kind, string Repository, string? Revision, string? Path) Route(string path)
    {
        if (path.StartsWith("/api/models/", StringComparison.Ordinal))
        {
            var rest = path["/api/models/".Length..];
            var at = rest.LastIndexOf("/revision/", StringComparison.Ordinal);
            return at < 0 ? ("unknown", rest, null, null) : ("list", rest[..at], Uri.UnescapeDataString(rest[(at + "/revision/".Length)..]), null);
        }

        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            var rest = path["/cdn/".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var commit = slash < 0 ? rest : rest[..slash];
            var repository = _repositories.Values.FirstOrDefault(r => r.Commit == commit);
            return repository is null || slash < 0 ? ("unknown", string.Empty, null, null) : ("cdn", repository.Id, commit, Uri.UnescapeDataString(rest[(slash + 1)..]));
        }

        var resolve = path.IndexOf("/resolve/", StringComparison.Ordinal);
        if (resolve > 1)
        {
            var rest = path[(resolve + "/resolve/".Length)..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                return ("resolve", path[1..resolve], Uri.UnescapeDataString(rest[..slash]), Uri.UnescapeDataString(rest[(slash + 1)..]));
            }
        }

        return ("unknown", string.Empty, null, null);
    }

    private int? TakeFailure(string? path)
    {
        lock (_failuresGate)
        {
            var failure = _failures.FirstOrDefault(f => f.Remaining > 0 && (f.Path is null || f.Path == path));
            if (failure is null)
            {
                return null;
            }

            failure.Remaining--;
            return failure.StatusCode;
        }
    }

    private static async Task ErrorAsync(HttpContext context, int status, string? errorCode, string message)
    {
        context.Response.StatusCode = status;
        if (errorCode is not null)
        {
            context.Response.Headers["X-Error-Code"] = errorCode;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = message }));
    }

    private async Task ListAsync(HttpContext context, Repository repository)
    {
        var siblings = repository.Files.Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(file => file.Size >= LfsThreshold && ListLfsChecksums
            ? (object)new { rfilename = file.Path, size = file.Size, blobId = file.GitOid, lfs = new { sha256 = file.Sha256, size = file.Size, pointerSize = 134 } }
            : new { rfilename = file.Path, size = file.Size, blobId = file.GitOid });
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            id = repository.Id,
            modelId = repository.Id,
            sha = repository.Commit,
            @private = false,
            siblings,
        }));
    }

    private async Task ServeFileAsync(HttpContext context, HubRequest record, Repository repository, string path, HubFileEntry file, string? range, bool lfs)
    {
        var content = file.Content;
        long from = 0;
        if (range is not null)
        {
            if (!System.Net.Http.Headers.RangeHeaderValue.TryParse(range, out var parsed) || parsed.Ranges.Count != 1 || parsed.Ranges.First().From is not { } start)
            {
                context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                return;
            }

            if (start >= content.Length)
            {
                context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                context.Response.Headers.ContentRange = $"bytes */{content.Length}";
                return;
            }

            from = start;
        }

        var length = content.Length - from;
        context.Response.StatusCode = range is null ? StatusCodes.Status200OK : StatusCodes.Status206PartialContent;
        if (range is not null)
        {
            context.Response.Headers.ContentRange = $"bytes {from}-{content.Length - 1}/{content.Length}";
        }

        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.Headers.ETag = lfs ? $"\"{file.Sha256}\"" : $"\"{file.GitOid}\"";
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = length;

        var corrupt = _corrupt.ContainsKey((repository.Id, path));
        long? dropAt = null;
        if (_drops.TryGetValue((repository.Id, path), out var drop))
        {
            dropAt = drop.AfterBytes;
            if (!drop.Always)
            {
                _drops.TryRemove((repository.Id, path), out _);
            }
        }

        var clock = Stopwatch.StartNew();
        long sent = 0;
        var buffer = new byte[ChunkSize];
        while (sent < length)
        {
            var count = (int)Math.Min(ChunkSize, length - sent);
            if (dropAt is { } limit)
            {
                count = (int)Math.Min(count, limit - sent);
            }

            if (count > 0)
            {
                content.AsSpan((int)(from + sent), count).CopyTo(buffer);
                if (corrupt)
                {
                    for (var i = 0; i < count; i++)
                    {
                        buffer[i] ^= 0x5A;
                    }
                }

                await context.Response.Body.WriteAsync(buffer.AsMemory(0, count), context.RequestAborted);
                sent += count;
                record.AddBytes(count);
            }

            if (dropAt is { } cut && sent >= cut)
            {
                await context.Response.Body.FlushAsync(context.RequestAborted);
                context.Abort();
                return;
            }

            if (Interlocked.Read(ref _bytesPerSecond) is > 0 and var rate)
            {
                var due = TimeSpan.FromSeconds(sent / (double)rate) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(due, context.RequestAborted);
                }
            }
        }
    }

    private sealed record Drop(long AfterBytes, bool Always);

    private sealed record Failure(int StatusCode, string? Path)
    {
        public int Remaining { get; set; }
    }

    private sealed class Repository
    {
        public Repository(string id, string folder)
        {
            Id = id;
            // A made-up 40-hex commit id, as git's look.
            Commit = Hex(SHA256.HashData(Encoding.UTF8.GetBytes($"fake-hub:{id}")))[..40];
            Files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(relative => !relative.Split('/').Any(segment => segment.StartsWith('.')))
                .ToDictionary(relative => relative, relative => new HubFileEntry(relative, Path.Combine(folder, relative)), StringComparer.Ordinal);
        }

        public string Id { get; }

        public string Commit { get; }

        public Dictionary<string, HubFileEntry> Files { get; }
    }

    private sealed class HubFileEntry(string path, string fullPath)
    {
        private readonly Lazy<byte[]> _content = new(() => File.ReadAllBytes(fullPath));

        public string Path { get; } = path;

        public long Size { get; } = new FileInfo(fullPath).Length;

        public byte[] Content => _content.Value;

        public string Sha256 => field ??= Hex(SHA256.HashData(Content));

        // The git blob id, which the real hub sends as the ETag of files not in LFS. Git defines it as a SHA-1; nothing
        // here relies on it for security.
#pragma warning disable CA5350
        public string GitOid => field ??= Hex(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {Content.Length}\0"), .. Content]));
#pragma warning restore CA5350
    }
}
