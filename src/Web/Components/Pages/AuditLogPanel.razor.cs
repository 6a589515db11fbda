using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Radzen;
using Radzen.Blazor;
using WebConsole.Domain;
using WebConsole.Domain.Audit;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The audit log, read through <see cref="AuditQueryService"/> (the service behind <c>/api/audit</c>): organization admins
/// see their organization's entries, platform operators every organization's. Pages are read on demand.
/// </summary>
public sealed partial class AuditLogPanel
{
    private const int PageSize = 20;

    private RadzenDataGrid<AuditRow>? _grid;
    private List<AuditRow> _rows = [];
    private int _total;
    private bool _loading;
    private string? _error;
    private string? _action;
    private string? _actor;
    private string? _resourceType;

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    [Inject]
    private IDbContextFactory<WebConsoleDbContext> Db { get; set; } = default!;

    [Inject]
    private ISystemDbContextFactory SystemDb { get; set; } = default!;

    // The grid asks for pages as the pager moves; the first one is read here, so the log shows at once.
    protected override Task OnInitializedAsync() => LoadPageAsync(new LoadDataArgs { Skip = 0, Top = PageSize });

    private async Task ApplyAsync()
    {
        if (_grid is not null)
        {
            await _grid.FirstPage(true);
        }
    }

    private async Task LoadPageAsync(LoadDataArgs args)
    {
        _loading = true;
        try
        {
            var page = ((args.Skip ?? 0) / PageSize) + 1;
            await using var db = await Db.CreateDbContextAsync();
            var audit = new AuditQueryService(db, SystemDb);
            var result = await audit.QueryAsync(Caller, new AuditQuery(Action: _action, Actor: _actor, ResourceType: _resourceType, Page: page, PageSize: PageSize));
            _rows = [.. result.Entries.Select(AuditRow.From)];
            _total = result.Total;
            _error = null;
        }
        catch (DomainValidationException ex)
        {
            _error = ex.Message;
        }
        finally
        {
            _loading = false;
        }
    }

    private static void RenderRow(RowRenderEventArgs<AuditRow> row)
    {
        if (row.Data is { } data)
        {
            row.Attributes["data-testid"] = "audit-row";
            row.Attributes["data-action"] = data.Action;
            row.Attributes["data-resource-id"] = data.ResourceId;
        }
    }

    internal sealed record AuditRow(string When, string Action, string Actor, string Resource, string ResourceId, string? Details)
    {
        public static AuditRow From(AuditEntry entry) => new(
            entry.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            entry.Action,
            entry.ActorName,
            $"{entry.ResourceType} {entry.ResourceId}",
            entry.ResourceId,
            entry.Details);
    }
}
