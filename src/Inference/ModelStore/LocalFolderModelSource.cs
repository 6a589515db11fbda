namespace WebConsole.Inference.ModelStore;

/// <summary>
/// A model copied from a local folder in the Hugging Face export layout (an export made with Optimum, a folder fetched
/// by hand): every file under it except hidden ones, once the folder is checked to hold an ONNX graph and a tokenizer
/// (<see cref="ModelExportLayout.Select"/>). Thread-safe.
/// </summary>
public sealed class LocalFolderModelSource : IModelSource
{
    private const int BufferSize = 1 << 20;
    private readonly TimeProvider _time;

    /// <summary>Creates the source.</summary>
    /// <param name="path">The folder to copy.</param>
    /// <param name="timeProvider">The clock of the manifest's <c>downloaded_at</c>; null: the system clock.</param>
    public LocalFolderModelSource(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The folder, as a full path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string Description => $"folder {Path}";

    /// <inheritdoc />
    public ModelDownloadState ActiveState => ModelDownloadState.Downloading;

    /// <summary>Free bytes on the volume of a folder (tests replace it).</summary>
    internal Func<string, long> FreeSpaceProbe { get; init; } = ModelSourceFiles.FreeSpace;

    /// <inheritdoc />
    public async Task MaterializeAsync(string stagingFolder, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stagingFolder);
        ArgumentNullException.ThrowIfNull(progress);
        if (!Directory.Exists(Path))
        {
            throw new ModelDownloadException($"The folder {Path} does not exist.");
        }

        var files = Directory
            .EnumerateFiles(Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
            .Select(file => System.IO.Path.GetRelativePath(Path, file).Replace(System.IO.Path.DirectorySeparatorChar, '/'))
            .Where(relative => !relative.Split('/').Any(segment => segment.StartsWith('.'))
                && relative != ModelExportLayout.ManifestFileName && !relative.EndsWith(".partial", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(relative => (Relative: relative, Size: new FileInfo(ModelSourceFiles.Combine(Path, relative)).Length))
            .ToList();
        _ = ModelExportLayout.Select(files.Select(f => f.Relative), graphPath: null, Description);

        long total = files.Sum(f => f.Size);
        ModelSourceFiles.EnsureFreeSpace(stagingFolder, total, FreeSpaceProbe, Description);
        long completed = 0;
        progress.Report(new ModelTransferProgress(0, total, null));
        var manifest = new List<ManifestFile>(files.Count);
        var buffer = new byte[BufferSize];
        foreach (var (relative, _) in files)
        {
            var target = ModelSourceFiles.Combine(stagingFolder, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            long size = 0;
            await using (var source = new FileStream(ModelSourceFiles.Combine(Path, relative), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true))
            await using (var destination = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true))
            {
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    hash.AppendData(buffer, 0, read);
                    size += read;
                    completed += read;
                    progress.Report(new ModelTransferProgress(completed, total, relative));
                }
            }

            manifest.Add(new ManifestFile(relative, size, Convert.ToHexStringLower(hash.GetCurrentHash())));
        }

        await ModelSourceFiles.WriteManifestAsync(
            stagingFolder,
            writer =>
            {
                writer.WriteString("source", "local");
                writer.WriteString("path", Path);
            },
            manifest,
            _time.GetUtcNow(),
            cancellationToken);
        progress.Report(new ModelTransferProgress(completed, Math.Max(total, completed), null));
    }
}
