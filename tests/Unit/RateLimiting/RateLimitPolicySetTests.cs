using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.RateLimiting;

namespace WebConsole.Unit.RateLimiting;

public sealed class RateLimitPolicySetTests
{
    private static readonly Guid Organization = Guid.Parse("0b9b3c8e-61f2-4c55-9a0e-3f3a9d6a1c01");
    private static readonly Guid OtherOrganization = Guid.Parse("7d7f0a52-1a3e-4f0e-8d3b-2b8e5c9d4e02");
    private static readonly Guid Team = Guid.Parse("c2a6a8f4-0d6e-4d8e-b1f5-4a7c3e9b5f03");
    private const string Key = "key-1";
    private const string Model = "my-e5";

    [Fact]
    public void The_most_specific_scope_wins_key_then_team_then_organization_then_global()
    {
        var global = Rule(RateLimitScope.Global, null, "family:text_embedding", 6000);
        var organization = Rule(RateLimitScope.Organization, Organization.ToString(), "family:text_embedding", 3000);
        var team = Rule(RateLimitScope.Team, Team.ToString(), "family:text_embedding", 200);
        var key = Rule(RateLimitScope.ApiKey, Key, "family:text_embedding", 50);
        var set = new RateLimitPolicySet([global, organization, team, key]);

        Assert.Same(key, Resolve(set, Team, Key)!.Rule);
        Assert.Same(team, Resolve(set, Team, "another-key")!.Rule);
        Assert.Same(organization, Resolve(set, Guid.NewGuid(), "another-key")!.Rule);
        Assert.Same(organization, Resolve(set, null, null)!.Rule);
        Assert.Same(global, new RateLimitPolicySet([global, team, key]).Resolve(Organization, null, null, Model, TaskType.TextEmbedding)!.Rule);
    }

    [Fact]
    public void Within_a_scope_a_model_policy_beats_the_family_policy_but_never_a_more_specific_scope()
    {
        var globalModel = Rule(RateLimitScope.Global, null, $"model:{Model}", 10);
        var globalFamily = Rule(RateLimitScope.Global, null, "family:text_embedding", 6000);
        var teamModel = Rule(RateLimitScope.Team, Team.ToString(), $"model:{Model}", 20);
        var keyFamily = Rule(RateLimitScope.ApiKey, Key, "family:text_embedding", 30);
        var set = new RateLimitPolicySet([globalFamily, globalModel, teamModel, keyFamily]);

        Assert.Same(globalModel, Resolve(set, null, null)!.Rule);
        Assert.Same(globalFamily, set.Resolve(Organization, null, null, "other-model", TaskType.TextEmbedding)!.Rule);
        Assert.Same(teamModel, Resolve(set, Team, null)!.Rule);

        // The key's family policy is more specific than the team's model policy.
        Assert.Same(keyFamily, Resolve(set, Team, Key)!.Rule);

        // A family only matches its own task type.
        Assert.Null(set.Resolve(Organization, null, null, "a-reranker", TaskType.Rerank));
    }

    [Fact]
    public void Another_organizations_policies_never_apply()
    {
        var foreignTeam = Rule(RateLimitScope.Team, Team.ToString(), "family:text_embedding", 1, OtherOrganization);
        var foreignKey = Rule(RateLimitScope.ApiKey, Key, "family:text_embedding", 1, OtherOrganization);
        var foreignOrganization = Rule(RateLimitScope.Organization, OtherOrganization.ToString(), "family:text_embedding", 1);
        var set = new RateLimitPolicySet([foreignTeam, foreignKey, foreignOrganization]);

        Assert.Null(Resolve(set, Team, Key));
    }

    [Fact]
    public void Limiter_keys_name_the_window_of_the_winning_level_per_model()
    {
        var org = Organization.ToString("N");
        var set = new RateLimitPolicySet(
        [
            Rule(RateLimitScope.Global, null, "family:text_embedding", 6000),
            Rule(RateLimitScope.Team, Team.ToString().ToUpperInvariant(), "model:team-model", 5),
            Rule(RateLimitScope.ApiKey, Key, "model:key-model", 5),
        ]);

        Assert.Equal($"{org}/organization/{org}/{Model}", Resolve(set, Team, Key)!.Key);
        Assert.Equal($"{org}/organization/{org}/other", set.Resolve(Organization, Team, Key, "other", TaskType.TextEmbedding)!.Key);
        Assert.Equal($"{org}/team/{Team:N}/team-model", set.Resolve(Organization, Team, Key, "team-model", TaskType.TextEmbedding)!.Key);
        Assert.Equal($"{org}/api_key/{Key}/key-model", set.Resolve(Organization, Team, Key, "key-model", TaskType.TextEmbedding)!.Key);

        // Global and organization policies share the organization's window, so an override does not reset the count.
        Assert.Equal(
            RateLimitPolicySet.KeyOf(RateLimitScope.Global, Organization, null, Model),
            RateLimitPolicySet.KeyOf(RateLimitScope.Organization, Organization, Organization.ToString(), Model));
    }

    [Fact]
    public void Scope_names_round_trip_and_ids_are_canonical()
    {
        foreach (var scope in Enum.GetValues<RateLimitScope>())
        {
            Assert.True(RateLimitScopes.TryParse(scope.ToWireName(), out var parsed));
            Assert.Equal(scope, parsed);
        }

        Assert.False(RateLimitScopes.TryParse("Team", out _));
        Assert.Equal(Team.ToString("D"), RateLimitScopes.Normalize(RateLimitScope.Team, Team.ToString("B").ToUpperInvariant()));
        Assert.Equal("Key-A", RateLimitScopes.Normalize(RateLimitScope.ApiKey, " Key-A "));
        Assert.Null(RateLimitScopes.Normalize(RateLimitScope.Global, "x"));
    }

    private static EffectiveRateLimit? Resolve(RateLimitPolicySet set, Guid? team, string? key) =>
        set.Resolve(Organization, team, key, Model, TaskType.TextEmbedding);

    private static RateLimitRule Rule(RateLimitScope scope, string? scopeId, string selector, int requestsPerMinute, Guid? organization = null) =>
        RateLimitRule.From(RateLimitPolicy.Create(Guid.NewGuid(), scope, scopeId, ModelSelector.Parse(selector),
            RateLimit.Create(requestsPerMinute, null, null), scope == RateLimitScope.Global ? null : organization ?? Organization));
}
