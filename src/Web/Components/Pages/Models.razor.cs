using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Radzen;
using WebConsole.Inference.ModelStore;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The model store: every model of the installation with what it serves, where it comes from and where it is on its way
/// in. Download and build progress arrives live from <see cref="ModelStore"/>: statuses are collected as they come and
/// rendered at most a few times a second, so a fast transfer cannot flood the circuit. Platform operators start built-in
/// downloads, import models and delete them; everyone else reads.
/// </summary>
public sealed partial class Models : IDisposable
{
    private static readonly TimeSpan RenderInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _pendingGate = new();
    private readonly Dictionary<string, ModelDownloadStatus> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    private bool _flushScheduled;
    private long _lastFlush;
    private bool _loaded;
    private bool _disposed;

    private CallerIdentity? _caller;
    private bool _canOperate;
    private string? _loadError;
    private string? _actionError;
    private DeleteConflict? _conflict;
    private List<ModelRow> _rows = [];
    private List<SizeBar> _sizes = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private ModelManagement Management { get; set; } = default!;

    [Inject]
    private ModelStore Store { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    [Inject]
    private ILogger<Models> Log { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        _canOperate = _caller?.IsPlatformOperator == true;

        // Prerendering shows the frame only: the list (which reads every model folder) and the subscription belong to the
        // interactive circuit, which runs this again.
        if (!RendererInfo.IsInteractive)
        {
            return;
        }

        // Subscribed before listing, so no change falls between the two; statuses older than what the list shows are
        // dropped when applied.
        _ = WatchAsync(_closing.Token);
        try
        {
            var models = await Task.Run(() => Management.List(), _closing.Token);
            _rows = [.. models.Select(m => new ModelRow(m))];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _loadError = $"The models could not be listed: {ex.Message}";
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            return;
        }

        UpdateSizes();
        lock (_pendingGate)
        {
            _loaded = true;
        }

        await ApplyPendingAsync(render: false);
    }

    public void Dispose()
    {
        lock (_pendingGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _closing.Cancel();
        _closing.Dispose();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var status in Store.WatchAsync(null, cancellationToken))
            {
                OnStatus(status);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page was left.
        }
        catch (ObjectDisposedException)
        {
            // The store is gone: the server is stopping.
        }
    }

    // Called on the store's subscription: keeps the newest status per model and schedules one render for the lot.
    private void OnStatus(ModelDownloadStatus status)
    {
        lock (_pendingGate)
        {
            _pending[status.ModelId] = status;
            if (_flushScheduled || _disposed)
            {
                return;
            }

            _flushScheduled = true;
        }

        _ = FlushSoonAsync();
    }

    private async Task FlushSoonAsync()
    {
        try
        {
            var wait = RenderInterval - Clock.GetElapsedTime(Interlocked.Read(ref _lastFlush));
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, Clock, _closing.Token);
            }

            await InvokeAsync(() => ApplyPendingAsync(render: true));
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The page was left while a render was pending.
        }
        catch (Exception ex)
        {
            // Never the circuit's end: the next status tries again.
            lock (_pendingGate)
            {
                _flushScheduled = false;
            }

            Log.LogWarning(ex, "Showing model download progress failed");
        }
    }

    // On the renderer's context: applies the statuses collected since the last render. A status older than the row's is
    // stale; a model that arrived, left or failed is described afresh (off the circuit's thread: it reads its folder).
    private async Task ApplyPendingAsync(bool render)
    {
        List<ModelDownloadStatus> batch;
        lock (_pendingGate)
        {
            _flushScheduled = false;
            if (!_loaded || _disposed)
            {
                return;
            }

            batch = [.. _pending.Values];
            _pending.Clear();
        }

        Interlocked.Exchange(ref _lastFlush, Clock.GetTimestamp());
        var describe = new List<string>();
        foreach (var status in batch)
        {
            var row = Find(status.ModelId);
            if (row is not null && status.UpdatedAt < row.Model.Download.UpdatedAt)
            {
                continue;
            }

            if (row is not null && status.State is ModelDownloadState.Downloading or ModelDownloadState.Building)
            {
                row.Model = row.Model with { Download = ModelDownloadResponse.From(status) };
            }
            else
            {
                describe.Add(status.ModelId);
            }
        }

        if (describe.Count > 0)
        {
            var described = await Task.Run(() => describe.Select(id => (Id: id, Model: TryDescribe(id))).ToList());
            foreach (var (id, model) in described)
            {
                Upsert(id, model);
            }
        }

        UpdateSizes();
        if (render)
        {
            StateHasChanged();
        }
    }

    private ModelResponse? TryDescribe(string modelId)
    {
        try
        {
            return Management.Get(modelId);
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    // Adds, replaces (unless the row already shows something newer) or, for a model that is gone, removes a row.
    private void Upsert(string modelId, ModelResponse? model)
    {
        var row = Find(modelId);
        if (model is null)
        {
            if (row is not null)
            {
                _rows = [.. _rows.Where(r => !ReferenceEquals(r, row))];
            }

            return;
        }

        if (row is null)
        {
            _rows = [.. _rows.Append(new ModelRow(model)).OrderBy(r => r.Id, StringComparer.Ordinal)];
        }
        else if (model.Download.UpdatedAt >= row.Model.Download.UpdatedAt)
        {
            row.Model = model;
        }
    }

    private ModelRow? Find(string modelId) => _rows.Find(r => string.Equals(r.Id, modelId, StringComparison.Ordinal));

    // The chart changes only when the set of downloaded models or their sizes do, not on every progress tick.
    private void UpdateSizes()
    {
        var sizes = _rows
            .Where(r => r.SizeBytes is > 0)
            .Select(r => new SizeBar(r.Id, Math.Round(r.SizeBytes!.Value / 1_000_000.0, 1)))
            .OrderByDescending(s => s.Megabytes)
            .ToList();
        if (!sizes.SequenceEqual(_sizes))
        {
            _sizes = sizes;
        }
    }

    private void Download(ModelRow row)
    {
        _actionError = null;
        try
        {
            Upsert(row.Id, Management.Download(row.Id));
        }
        catch (ResourceNotFoundException ex)
        {
            _actionError = ex.Message;
        }
    }

    private async Task ConfirmDeleteAsync(ModelRow row)
    {
        var what = row.IsBuiltIn
            ? "It comes back (downloaded or built again) the next time it is used or downloaded."
            : "Importing it again fetches all its files again.";
        var confirmed = await Dialogs.Confirm(
            $"Delete the model \"{row.Id}\" from the model store? {what}",
            "Delete model",
            new ConfirmOptions { OkButtonText = "Delete model", CancelButtonText = "Keep it" });
        if (confirmed == true)
        {
            await DeleteAsync(row.Id, force: false);
        }
    }

    private async Task DeleteAsync(string modelId, bool force)
    {
        if (_caller is null || !_busy.Add(modelId))
        {
            return;
        }

        _actionError = null;
        _conflict = null;
        try
        {
            var model = await Management.DeleteAsync(_caller, modelId, force, _closing.Token);
            Upsert(modelId, IsBuiltInSource(model) ? model : null);
            Notifications.Notify(NotificationSeverity.Success, "Model deleted", modelId);
        }
        catch (ResourceConflictException ex)
        {
            // Endpoints use the model (or it is being downloaded): say so, and offer to delete it anyway.
            _conflict = new DeleteConflict(modelId, ex.Message);
        }
        catch (ResourceNotFoundException ex)
        {
            _actionError = ex.Message;
            Upsert(modelId, TryDescribe(modelId));
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            _busy.Remove(modelId);
        }

        UpdateSizes();
    }

    private static bool IsBuiltInSource(ModelResponse model) => model.Source is "built_in_hub" or "built_in_local";

    private async Task ImportAsync()
    {
        if (_caller is null)
        {
            return;
        }

        _actionError = null;
        var imported = await Dialogs.OpenAsync<ImportModelDialog>(
            "Import a model",
            new Dictionary<string, object?> { [nameof(ImportModelDialog.Caller)] = _caller },
            new DialogOptions { Width = "40rem", CloseDialogOnOverlayClick = false, ShowClose = false });
        if (imported is string modelId)
        {
            Upsert(modelId, TryDescribe(modelId));
            Notifications.Notify(NotificationSeverity.Info, "Import started", $"{modelId}: its progress shows in the list.");
        }
    }

    private bool IsBusy(string modelId) => _busy.Contains(modelId);

    private static void RenderRow(RowRenderEventArgs<ModelRow> row)
    {
        if (row.Data is { } model)
        {
            row.Attributes["data-testid"] = "model-row";
            row.Attributes["data-model-id"] = model.Id;
            row.Attributes["data-state"] = model.State;
        }
    }

    private static BadgeStyle StateStyle(string state) => state switch
    {
        "downloaded" => BadgeStyle.Success,
        "downloading" or "building" => BadgeStyle.Info,
        "failed" => BadgeStyle.Danger,
        _ => BadgeStyle.Base,
    };

    private static string Number(int? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "—";

    private static string Percent(double? percent) => percent?.ToString("0.0", CultureInfo.InvariantCulture) ?? string.Empty;

    private static string Megabytes(long bytes) => (bytes / 1_000_000.0).ToString("0.0", CultureInfo.InvariantCulture);

    // "12.3 of 118.0 MB · 2.4 MB/s · 45 s left · onnx/model.onnx"; the phase names the file or the build step.
    private static string ProgressText(ModelDownloadResponse download)
    {
        var parts = new List<string>();
        var unit = download.State == "building" ? string.Empty : " MB";
        if (download.State == "downloading")
        {
            parts.Add(download.TotalBytes is { } total
                ? $"{Megabytes(download.DownloadedBytes)} of {Megabytes(total)}{unit}"
                : $"{Megabytes(download.DownloadedBytes)}{unit}");
            if (download.BytesPerSecond > 0)
            {
                parts.Add($"{(download.BytesPerSecond / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture)} MB/s");
            }
        }

        if (download.EtaSeconds is { } eta)
        {
            parts.Add($"{Duration(eta)} left");
        }

        if (!string.IsNullOrEmpty(download.Reason))
        {
            parts.Add(download.Reason);
        }

        return parts.Count > 0 ? string.Join(" · ", parts) : "starting…";
    }

    private static string Duration(double seconds)
    {
        var time = TimeSpan.FromSeconds(Math.Max(0, Math.Ceiling(seconds)));
        return time.TotalSeconds < 60 ? $"{(int)time.TotalSeconds} s"
            : time.TotalHours < 1 ? $"{time.Minutes} min {time.Seconds} s"
            : $"{(int)time.TotalHours} h {time.Minutes} min";
    }

    internal sealed record DeleteConflict(string ModelId, string Message);

    internal sealed record SizeBar(string ModelId, double Megabytes);

    /// <summary>One row of the grid; its model (and so its progress) is replaced in place as statuses arrive.</summary>
    internal sealed class ModelRow(ModelResponse model)
    {
        public ModelResponse Model { get; set; } = model;

        public string Id => Model.ModelId;

        public string? TaskType => Model.TaskType;

        public int? Dimensions => Model.Dimensions;

        public int? MaxInputTokens => Model.MaxInputTokens;

        public string? License => Model.License;

        public string State => Model.Download.State;

        public bool IsBuiltIn => IsBuiltInSource(Model);

        public bool IsLocal => Model.Source == "built_in_local";

        public bool IsActive => State is "downloading" or "building";

        public bool CanDownload => IsBuiltIn && State is "absent" or "failed";

        // Models registered by configuration live outside the store and are not the store's to delete.
        public bool CanDelete => State == "downloaded" && Model.Source != "configured";

        // What is on disk: the store reports a present model's folder size as its downloaded bytes.
        public long? SizeBytes => State == "downloaded" && Model.Download.TotalBytes is > 0 ? Model.Download.TotalBytes : null;

        public string SourceText => Model.Source switch
        {
            "built_in_hub" => "built-in, hub",
            "built_in_local" => "built-in, local build",
            "hub" => "imported, hub",
            "local" => "imported, folder",
            "configured" => "configured",
            _ => "in the store",
        };

        public string Description => Model.Description
            ?? (Model.Architecture is { } architecture
                ? $"{SourceText[..1].ToUpperInvariant()}{SourceText[1..]} model; architecture {architecture}."
                : $"{SourceText[..1].ToUpperInvariant()}{SourceText[1..]} model.");
    }
}
