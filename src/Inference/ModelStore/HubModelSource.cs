namespace WebConsole.Inference.ModelStore;

/// <summary>
/// A model from a hub repository in the Hugging Face export layout: the files of <see cref="ModelExportLayout.Select"/>
/// at one commit, downloaded one after the other into the staging folder. What an interrupted attempt left there is
/// reused: complete files (size and checksum verified again) are not fetched again, partial ones resume. Thread-safe.
/// </summary>
public sealed class HubModelSource : IModelSource
{
    private readonly HubClient _hub;
    private readonly TimeProvider _time;

    /// <summary>Creates the source.</summary>
    /// <param name="hub">The hub client.</param>
    /// <param name="repository">The repository (<c>owner/name</c>).</param>
    /// <param name="revision">The branch, tag or commit.</param>
    /// <param name="graphPath">
    /// The ONNX graph to take (e.g. <c>onnx/model_quantized.onnx</c>), saved as <c>onnx/model.onnx</c>; null takes
    /// <c>onnx/model.onnx</c>, else <c>model.onnx</c>.
    /// </param>
    /// <param name="timeProvider">The clock of the manifest's <c>downloaded_at</c>; null: the system clock.</param>
    public HubModelSource(HubClient hub, string repository, string revision = "main", string? graphPath = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentException.ThrowIfNullOrEmpty(repository);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        if (graphPath is not null && (!HubClient.IsSafeRelativePath(graphPath) || !graphPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"'{graphPath}' is not the path of an .onnx file inside a repository.", nameof(graphPath));
        }

        _hub = hub;
        _time = timeProvider ?? TimeProvider.System;
        Repository = repository;
        Revision = revision;
        GraphPath = graphPath;
    }

    /// <summary>The repository.</summary>
    public string Repository { get; }

    /// <summary>The revision asked for.</summary>
    public string Revision { get; }

    /// <summary>The ONNX graph asked for, or null for the default one.</summary>
    public string? GraphPath { get; }

    /// <inheritdoc />
    public string Description => $"hub {Repository}@{Revision}";

    /// <inheritdoc />
    public ModelDownloadState ActiveState => ModelDownloadState.Downloading;

    /// <summary>Free bytes on the volume of a folder (tests replace it).</summary>
    internal Func<string, long> FreeSpaceProbe { get; init; } = ModelSourceFiles.FreeSpace;

    /// <inheritdoc />
    public async Task MaterializeAsync(string stagingFolder, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(stagingFolder);
        ArgumentNullException.ThrowIfNull(progress);
        progress.Report(new ModelTransferProgress(0, null, "listing files"));
        var listing = await _hub.ListFilesAsync(Repository, Revision, cancellationToken);
        var files = listing.Files.GroupBy(f => f.Path, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var selection = ModelExportLayout.Select(files.Keys, GraphPath, Description);

        // Every file comes from the listed commit, so a branch that moves meanwhile cannot mix two versions.
        var revision = listing.Commit ?? Revision;
        var plan = new List<PlannedFile>(selection.Count);
        foreach (var mapping in selection)
        {
            var file = files[mapping.SourcePath];
            var target = ModelSourceFiles.Combine(stagingFolder, mapping.TargetPath);
            var sha256 = await CompleteFileSha256Async(target, file, cancellationToken);
            long present;
            if (sha256 is not null)
            {
                present = new FileInfo(target).Length;
            }
            else
            {
                if (File.Exists(target))
                {
                    File.Delete(target);
                }

                var partial = new FileInfo(target + ".partial");
                present = partial.Exists && (file.Size is null || partial.Length <= file.Size) ? partial.Length : 0;
            }

            plan.Add(new PlannedFile(mapping.TargetPath, file, target) { Present = present, Sha256 = sha256 });
        }

        long? total = plan.All(p => p.File.Size is not null) ? plan.Sum(p => p.File.Size!.Value) : null;
        ModelSourceFiles.EnsureFreeSpace(
            stagingFolder, plan.Sum(p => Math.Max(0, (p.File.Size ?? 0) - p.Present)), FreeSpaceProbe, Description);
        var completed = plan.Sum(p => p.Present);
        progress.Report(new ModelTransferProgress(completed, total, null));
        foreach (var planned in plan.Where(p => p.Sha256 is null))
        {
            var onDisk = new SynchronousProgress<long>(bytes =>
            {
                completed += bytes - planned.Present;
                planned.Present = bytes;
                progress.Report(new ModelTransferProgress(completed, total, planned.TargetPath));
            });
            planned.Sha256 = await _hub.DownloadFileAsync(Repository, revision, planned.File, planned.Target, onDisk, cancellationToken);
            onDisk.Report(new FileInfo(planned.Target).Length);
        }

        RemoveOtherFiles(stagingFolder, plan.Select(p => p.Target));
        await ModelSourceFiles.WriteManifestAsync(
            stagingFolder,
            writer =>
            {
                writer.WriteString("source", "hub");
                writer.WriteString("repository", Repository);
                writer.WriteString("revision", Revision);
                if (listing.Commit is not null)
                {
                    writer.WriteString("commit", listing.Commit);
                }
            },
            plan.Select(p => new ManifestFile(p.TargetPath, p.Present, p.Sha256)),
            _time.GetUtcNow(),
            cancellationToken);
        progress.Report(new ModelTransferProgress(completed, total, null));
    }

    // The sha256 of a file an earlier attempt completed, when it still matches the listing; null when it must be fetched.
    private static async Task<string?> CompleteFileSha256Async(string path, HubFile file, CancellationToken cancellationToken)
    {
        if (!File.Exists(path) || (file.Size is { } size && new FileInfo(path).Length != size))
        {
            return null;
        }

        var sha256 = await ModelSourceFiles.Sha256Async(path, cancellationToken);
        return file.Sha256 is null || string.Equals(file.Sha256, sha256, StringComparison.OrdinalIgnoreCase) ? sha256 : null;
    }

    // Leftovers of an earlier attempt that chose other files (another graph) must not end up in the model folder.
    private static void RemoveOtherFiles(string folder, IEnumerable<string> keep)
    {
        var kept = new HashSet<string>(keep.Select(Path.GetFullPath), StringComparer.Ordinal) { Path.GetFullPath(Path.Combine(folder, ModelExportLayout.ManifestFileName)) };
        foreach (var file in Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (!kept.Contains(Path.GetFullPath(file)))
            {
                File.Delete(file);
            }
        }
    }

    private sealed record PlannedFile(string TargetPath, HubFile File, string Target)
    {
        public long Present { get; set; }

        public string? Sha256 { get; set; }
    }
}
