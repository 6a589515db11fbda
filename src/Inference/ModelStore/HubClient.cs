using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace WebConsole.Inference.ModelStore;

/// <summary>One file of a hub repository at a revision, as the hub lists it.</summary>
/// <param name="Path">The path inside the repository, with '/' separators (<c>onnx/model.onnx</c>).</param>
/// <param name="Size">Its size in bytes, when listed.</param>
/// <param name="Sha256">Its sha256 (lowercase hex), when listed (the hub lists it for files stored in LFS).</param>
public sealed record HubFile(string Path, long? Size, string? Sha256);

/// <summary>The files of a hub repository at a revision.</summary>
/// <param name="Repository">The repository (<c>owner/name</c>).</param>
/// <param name="Revision">The revision asked for (branch, tag or commit).</param>
/// <param name="Commit">The commit the revision stood at, when the hub said.</param>
/// <param name="Files">Every file of the repository at that commit.</param>
public sealed record HubRepositoryListing(string Repository, string Revision, string? Commit, IReadOnlyList<HubFile> Files);

/// <summary>
/// Talks to a Hugging Face-compatible model hub: lists a repository's files
/// (<c>GET {base}/api/models/{repo}/revision/{revision}?blobs=true</c>) and downloads single files
/// (<c>GET {base}/{repo}/resolve/{revision}/{path}</c>, following the hub's redirects to its storage) into a
/// <c>.partial</c> file that later attempts resume with HTTP Range requests. Transient failures (dropped connections,
/// 5xx, silence longer than <see cref="HubOptions.RequestTimeout"/>) are retried up to
/// <see cref="HubOptions.MaxAttempts"/> times; 401, 403 and 404 are not. Thread-safe.
/// </summary>
/// <remarks>
/// Give it an <see cref="HttpClient"/> whose own <see cref="HttpClient.Timeout"/> is infinite: the client applies
/// <see cref="HubOptions.RequestTimeout"/> itself, as a limit on silence rather than on a whole (possibly long) transfer.
/// </remarks>
public sealed class HubClient
{
    private const int MaxRedirects = 10;
    private const int BufferSize = 1 << 17;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly HubOptions _options;

    /// <summary>Creates the client over <paramref name="httpClient"/> with the hub settings.</summary>
    public HubClient(HttpClient httpClient, IOptions<HubOptions> options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        _http = httpClient;
        _options = options.Value;
        BaseUrl = _options.BaseUrl.TrimEnd('/');
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out _))
        {
            throw new ArgumentException($"Inference:Hub:BaseUrl '{_options.BaseUrl}' is not an absolute URL.", nameof(options));
        }
    }

    /// <summary>The hub's address, without a trailing '/'.</summary>
    public string BaseUrl { get; }

    /// <summary>Lists the files of <paramref name="repository"/> at <paramref name="revision"/>, with sizes and LFS checksums.</summary>
    /// <exception cref="ModelDownloadException">The repository or revision does not exist, access is denied, or the hub cannot be reached.</exception>
    public Task<HubRepositoryListing> ListFilesAsync(string repository, string revision, CancellationToken cancellationToken)
    {
        ValidateRepository(repository);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        var uri = new Uri($"{BaseUrl}/api/models/{EscapePath(repository)}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        return WithRetriesAsync($"Listing the files of {repository}@{revision}", async (timeout, token) =>
        {
            using var response = await SendAsync(uri, rangeFrom: 0, onRedirect: null, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw IsTransient(response.StatusCode)
                    ? new TransientHubException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}")
                    : await FailureAsync(response, repository, revision, path: null, timeout.Token);
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            try
            {
                using var document = await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token);
                return ParseListing(document.RootElement, repository, revision);
            }
            catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException)
            {
                throw new ModelDownloadException(
                    $"The model hub at {BaseUrl} answered an unreadable file list for {repository}@{revision}: {exception.Message}", exception);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Downloads <paramref name="file"/> to <paramref name="destination"/>: into <c>destination.partial</c> first, resuming
    /// what an earlier attempt left there, then verified (size, and sha256 from the listing or from the hub's
    /// <c>X-Linked-Etag</c> / <c>ETag</c> when that is a sha256) and renamed. Reports the bytes of the file on disk.
    /// <paramref name="progress"/> is called synchronously on the transfer's thread.
    /// </summary>
    /// <returns>The file's sha256 (lowercase hex).</returns>
    /// <exception cref="ModelDownloadException">
    /// The file cannot be had (after retries), or fails verification: then the partial file is deleted and the exception's
    /// <see cref="Exception.InnerException"/> is an <see cref="InvalidDataException"/>.
    /// </exception>
    public async Task<string> DownloadFileAsync(
        string repository, string revision, HubFile file, string destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        ValidateRepository(repository);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var uri = new Uri($"{BaseUrl}/{EscapePath(repository)}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(file.Path)}");
        string? linkedSha256 = null;
        using var partial = new PartialFile(destination + ".partial", file.Path);
        await WithRetriesAsync($"Downloading {file.Path} from {repository}@{revision}", async (timeout, token) =>
        {
            var offset = await partial.PrepareAsync(file.Size, token);
            progress?.Report(offset);
            if (file.Size is { } size && offset == size)
            {
                return true;
            }

            using var response = await SendAsync(uri, offset, hop => linkedSha256 ??= Sha256Header(hop), timeout.Token);
            linkedSha256 ??= Sha256Header(response);
            long? expectedEnd = null;
            switch (response.StatusCode)
            {
                case HttpStatusCode.RequestedRangeNotSatisfiable when offset > 0:
                    // Nothing after the bytes we have: complete, unless the hub says the file is of another length.
                    if (response.Content.Headers.ContentRange?.Length is { } length && length != offset)
                    {
                        partial.Restart();
                        throw new TransientHubException($"the hub's file is {length} bytes, not the {offset} bytes on disk");
                    }

                    return true;
                case HttpStatusCode.PartialContent when response.Content.Headers.ContentRange?.From is { } from && from == offset:
                    expectedEnd = response.Content.Headers.ContentRange.Length
                        ?? (response.Content.Headers.ContentLength is { } partLength ? offset + partLength : null);
                    break;
                case HttpStatusCode.PartialContent:
                    partial.Restart();
                    throw new TransientHubException("the hub answered another range than asked for");
                case HttpStatusCode.OK:
                    // A 200 carries the whole file, also when a range was asked for: start over.
                    partial.Restart();
                    expectedEnd = response.Content.Headers.ContentLength;
                    break;
                default:
                    throw IsTransient(response.StatusCode)
                        ? new TransientHubException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}")
                        : await FailureAsync(response, repository, revision, file.Path, timeout.Token);
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            await partial.AppendAsync(body, timeout, _options.RequestTimeout, progress, token);
            var expected = file.Size ?? expectedEnd;
            if (expected is { } total && partial.Length < total)
            {
                throw new TransientHubException($"the connection closed after {partial.Length} of {total} bytes");
            }

            return true;
        }, cancellationToken);

        return partial.Complete(file.Size, file.Sha256 ?? linkedSha256, destination, $"{repository}@{revision}");
    }

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    private static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    // The hub's X-Linked-Etag (on its redirect to storage) or ETag carries the sha256 of LFS files; other ETags (git
    // blob ids, storage md5s) are not checksums we can use.
    private static string? Sha256Header(HttpResponseMessage response)
    {
        foreach (var name in new[] { "X-Linked-Etag", "ETag" })
        {
            if (response.Headers.TryGetValues(name, out var values)
                && NormalizeSha256(values.FirstOrDefault()?.Replace("W/", string.Empty, StringComparison.Ordinal).Trim('"')) is { } sha)
            {
                return sha;
            }
        }

        return null;
    }

    private static string? NormalizeSha256(string? value) =>
        value is { Length: 64 } && value.All(char.IsAsciiHexDigit) ? value.ToLowerInvariant() : null;

    private static void ValidateRepository(string repository)
    {
        ArgumentException.ThrowIfNullOrEmpty(repository);
        var segments = repository.Split('/');
        if (segments.Length > 2 || !segments.All(s => s.Length > 0 && s is not ("." or "..")
                && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
        {
            throw new ArgumentException($"'{repository}' is not a hub repository id (owner/name).", nameof(repository));
        }
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static HubRepositoryListing ParseListing(JsonElement root, string repository, string revision)
    {
        var commit = root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null;
        var files = new List<HubFile>();
        if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
        {
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (!sibling.TryGetProperty("rfilename", out var name) || name.GetString() is not { Length: > 0 } path || !IsSafeRelativePath(path))
                {
                    continue;
                }

                long? size = sibling.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                string? sha256 = null;
                if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    sha256 = lfs.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String ? NormalizeSha256(h.GetString()) : null;
                    size = lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number ? ls.GetInt64() : size;
                }

                files.Add(new HubFile(path, size, sha256));
            }
        }

        return new HubRepositoryListing(repository, revision, commit, files);
    }

    // A listed path is used as a path under the staging folder, so it must stay inside it.
    internal static bool IsSafeRelativePath(string path) =>
        !path.StartsWith('/') && !path.Contains('\\', StringComparison.Ordinal) && !Path.IsPathRooted(path)
        && path.Split('/').All(segment => segment.Length > 0 && segment is not ("." or ".."));

    private async Task<HttpResponseMessage> SendAsync(Uri uri, long rangeFrom, Action<HttpResponseMessage>? onRedirect, CancellationToken cancellationToken)
    {
        // Redirects are followed here when the handler does not follow them itself, so the hub's X-Linked-Etag is seen
        // and the token goes to the hub's host only.
        var current = uri;
        var authorize = true;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (authorize && _options.Token is { Length: > 0 } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (rangeFrom > 0)
            {
                request.Headers.Range = new RangeHeaderValue(rangeFrom, null);
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location || hop == MaxRedirects)
            {
                return response;
            }

            onRedirect?.Invoke(response);
            var next = location.IsAbsoluteUri ? location : new Uri(current, location);
            authorize &= Uri.Compare(next, current, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
            response.Dispose();
            current = next;
        }
    }

    private async Task<ModelDownloadException> FailureAsync(
        HttpResponseMessage response, string repository, string revision, string? path, CancellationToken cancellationToken)
    {
        var code = (int)response.StatusCode;
        var errorCode = response.Headers.TryGetValues("X-Error-Code", out var values) ? values.FirstOrDefault() : null;
        var detail = await ErrorDetailAsync(response, cancellationToken);
        var hub = $"the model hub at {BaseUrl}";
        var message = (code, errorCode) switch
        {
            (401 or 403, "RepoNotFound") =>
                $"Repository {repository} was not found on {hub}, or it is private and access was denied (HTTP {code}); a token may be needed (Inference:Hub:Token).",
            (401 or 403, "GatedRepo") =>
                $"Access to repository {repository} on {hub} was denied (HTTP {code}): it is gated; accept its conditions on the hub and set a token (Inference:Hub:Token).",
            (401 or 403, _) =>
                $"Access to repository {repository} on {hub} was denied (HTTP {code}): it may be private or gated, and a token may be needed (Inference:Hub:Token).",
            (404, "RevisionNotFound") => $"Revision {revision} was not found in repository {repository} on {hub} (HTTP 404).",
            (404, "RepoNotFound") => $"Repository {repository} was not found on {hub} (HTTP 404).",
            (404, _) when path is null => $"Repository {repository} (revision {revision}) was not found on {hub} (HTTP 404).",
            (404, _) => $"{path} was not found in repository {repository}@{revision} on {hub} (HTTP 404).",
            _ => $"The model hub at {BaseUrl} answered HTTP {code} {response.ReasonPhrase} for {path ?? "the file list"} of {repository}@{revision}.",
        };
        return new ModelDownloadException(detail is null ? message : $"{message} The hub said: {detail}");
    }

    private static async Task<string?> ErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            if (text.StartsWith('{'))
            {
                using var document = JsonDocument.Parse(text);
                text = document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                    ? error.GetString() ?? string.Empty
                    : string.Empty;
            }

            return text.Length == 0 || text.StartsWith('<') ? null : text.Length > 300 ? text[..300] + "..." : text;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or JsonException)
        {
            return null;
        }
    }

    private async Task<T> WithRetriesAsync<T>(
        string what, Func<CancellationTokenSource, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        for (var number = 1; ; number++)
        {
            Exception failure;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    return await attempt(timeout, cancellationToken);
                }
                catch (Exception exception) when (exception is HttpRequestException or TransientHubException
                    || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    failure = exception;
                }
            }

            // A hub name that does not resolve is not a passing fault (an offline machine, a wrong BaseUrl): answering at
            // once lets requests get the contract's 503 instead of waiting through every retry.
            if (number >= _options.MaxAttempts || failure is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError })
            {
                throw Exhausted(what, failure, number);
            }

            var delay = _options.RetryDelay * Math.Pow(2, number - 1);
            await Task.Delay(delay < MaxRetryDelay ? delay : MaxRetryDelay, cancellationToken);
        }
    }

    private ModelDownloadException Exhausted(string what, Exception failure, int attempts)
    {
        var tries = attempts == 1 ? "1 attempt" : $"{attempts} attempts";
        return failure switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError } or HttpRequestException { InnerException: SocketException } =>
                new ModelDownloadException($"Could not reach the model hub at {BaseUrl}: {Cause(failure)} ({what}, {tries}).", failure),
            OperationCanceledException => new ModelDownloadException(
                $"{what} failed after {tries}: the model hub at {BaseUrl} sent nothing for {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.",
                failure),
            _ => new ModelDownloadException($"{what} failed after {tries}: {Cause(failure)}.", failure),
        };
    }

    private static string Cause(Exception exception)
    {
        var message = exception.Message.TrimEnd('.');
        return exception.InnerException is { } inner && !message.Contains(inner.Message.TrimEnd('.'), StringComparison.Ordinal)
            ? $"{message}: {inner.Message.TrimEnd('.')}"
            : message;
    }

    /// <summary>A failure worth another attempt (5xx, a transfer cut short).</summary>
    private sealed class TransientHubException(string message, Exception? innerException = null) : Exception(message, innerException);

    /// <summary>
    /// The <c>.partial</c> file of one download with the sha256 of what it holds, kept across attempts so a resumed
    /// transfer hashes only new bytes (what is on disk is re-read only when the hash does not cover it, e.g. after a restart).
    /// </summary>
    private sealed class PartialFile(string path, string name) : IDisposable
    {
        private IncrementalHash _hash = NewHash();

        public long Length { get; private set; }

        public async Task<long> PrepareAsync(long? size, CancellationToken cancellationToken)
        {
            var onDisk = File.Exists(path) ? new FileInfo(path).Length : 0;
            if (size is { } expected && onDisk > expected)
            {
                Restart();
                onDisk = 0;
            }

            if (onDisk != Length)
            {
                _hash.Dispose();
                _hash = NewHash();
                Length = 0;
                if (onDisk > 0)
                {
                    await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
                    var buffer = new byte[BufferSize];
                    int read;
                    while (Length < onDisk && (read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, onDisk - Length)), cancellationToken)) > 0)
                    {
                        _hash.AppendData(buffer, 0, read);
                        Length += read;
                    }
                }
            }

            return Length;
        }

        public void Restart()
        {
            File.Delete(path);
            _hash.Dispose();
            _hash = NewHash();
            Length = 0;
        }

        public async Task AppendAsync(Stream body, CancellationTokenSource timeout, TimeSpan inactivity, IProgress<long>? progress, CancellationToken cancellationToken)
        {
            await using var file = OpenForAppend();
            var buffer = new byte[BufferSize];
            while (true)
            {
                int read;
                timeout.CancelAfter(inactivity);
                try
                {
                    read = await body.ReadAsync(buffer, timeout.Token);
                }
                catch (IOException exception)
                {
                    throw new TransientHubException($"the transfer broke off after {Length} bytes ({exception.Message.TrimEnd('.')})", exception);
                }

                if (read == 0)
                {
                    return;
                }

                try
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    await file.FlushAsync(cancellationToken);
                }
                catch (IOException exception)
                {
                    throw new ModelDownloadException($"Writing {name} to {path} failed: {exception.Message}", exception);
                }

                _hash.AppendData(buffer, 0, read);
                Length += read;
                progress?.Report(Length);
            }
        }

        public string Complete(long? size, string? sha256, string destination, string where)
        {
            var actual = Convert.ToHexStringLower(_hash.GetCurrentHash());
            var failure = size is { } expectedSize && expectedSize != Length
                ? $"expected {expectedSize} bytes, got {Length}"
                : sha256 is { } expectedSha && !string.Equals(expectedSha, actual, StringComparison.OrdinalIgnoreCase)
                    ? $"expected sha256 {expectedSha}, got {actual}"
                    : null;
            if (failure is not null)
            {
                File.Delete(path);
                throw new ModelDownloadException(
                    $"{name} from {where} failed verification: {failure}. The partial download was deleted.",
                    new InvalidDataException($"{name}: {failure}"));
            }

            if (!File.Exists(path))
            {
                // An empty file: no byte was ever written.
                File.WriteAllBytes(path, []);
            }

            File.Move(path, destination, overwrite: true);
            return actual;
        }

        public void Dispose() => _hash.Dispose();

        private FileStream OpenForAppend()
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, BufferSize, useAsync: true);
            file.SetLength(Length);
            file.Seek(Length, SeekOrigin.Begin);
            return file;
        }

        private static IncrementalHash NewHash() =>
            IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }
}
