namespace WebConsole.Web.Components;

/// <summary>One entry of the portal's navigation, with what the page is for.</summary>
public sealed record PortalSection(string Title, string Path, string Icon, string Purpose);

/// <summary>The portal's sections, in navigation order. Pages that are not built yet describe what they will hold.</summary>
public static class PortalSections
{
    public static readonly PortalSection Overview = new(
        "Overview", "", "dashboard",
        "The state of this installation: database, inference runtime, text segmentation.");

    public static readonly PortalSection Endpoints = new(
        "Endpoints", "endpoints", "hub",
        "Inference endpoints of your organization: create them from any service, watch deployments and model downloads, "
        + "inspect configuration and chunking, and try each endpoint.");

    public static readonly PortalSection Playground = new(
        "Playground", "playground", "forum",
        "A streaming chat playground: send prompts to completion and chat_completion endpoints, watch tokens arrive, "
        + "compare two endpoints side by side and copy the same request as code.");

    public static readonly PortalSection Models = new(
        "Models", "models", "category",
        "The model catalog: authors, task types, release status and end-of-life dates, plus the models on the embedded host.");

    public static readonly PortalSection Catalog = new(
        "Catalog", "catalog", "auto_stories",
        "The managed service's models: authors, task types, terms, regions, release status and end-of-life dates, and the backend each runs on.");

    public static readonly PortalSection Usage = new(
        "Usage", "usage", "query_stats",
        "Requests, tokens and cost per team, key, endpoint and model over time, with budgets and exports.");

    public static readonly PortalSection RateLimits = new(
        "Rate limits", "rate-limits", "speed",
        "Requests and tokens per minute per model: the installation's defaults and your organization's, teams' and keys' overrides.");

    public static readonly PortalSection Budgets = new(
        "Budgets", "budgets", "savings",
        "Monthly spending caps of teams and API keys: spend against each limit, warnings past the threshold, refusals at the limit.");

    public static readonly PortalSection Teams = new(
        "Teams & keys", "teams", "group",
        "Organizations, teams and members, API keys with their roles, expiry and allowed endpoints, and rate limits.");

    public static readonly PortalSection Settings = new(
        "Settings", "settings", "settings",
        "Installation settings for operators: catalog backends, prices, global rate limits and model sources.");

    public static IReadOnlyList<PortalSection> All { get; } = [Overview, Endpoints, Playground, Models, Catalog, Usage, RateLimits, Budgets, Teams, Settings];
}
