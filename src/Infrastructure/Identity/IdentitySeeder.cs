using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Identity;

/// <summary>
/// The first start of an installation: the default organization and team, the operator account and, when configured,
/// the <c>bootstrap</c> API key. Every step checks what exists, so later starts change nothing.
/// </summary>
public static partial class IdentitySeeder
{
    /// <summary>The default organization's slug.</summary>
    public const string DefaultOrganizationSlug = "default";

    /// <summary>The default team's name.</summary>
    public const string DefaultTeamName = "Default";

    /// <summary>The id of the key created from <c>WebConsole:Bootstrap:ApiKey</c>.</summary>
    public const string BootstrapKeyId = "bootstrap";

    /// <summary>Seeds through a system-scope context (it must see every organization).</summary>
    public static async Task SeedAsync(
        WebConsoleDbContext context,
        BootstrapSettings settings,
        IPasswordHasher<User> passwords,
        TimeProvider time,
        ILogger logger,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(passwords);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        if (!context.Tenant.IsSystem)
        {
            throw new InvalidOperationException("Identity seeding needs a system-scope context.");
        }

        var now = time.GetUtcNow();
        var organization = await context.Organizations.SingleOrDefaultAsync(o => o.Slug == DefaultOrganizationSlug, cancellationToken);
        if (organization is null)
        {
            organization = Organization.Create(Guid.NewGuid(), "Default organization", DefaultOrganizationSlug, now);
            context.Organizations.Add(organization);
        }

        var team = await context.Teams.SingleOrDefaultAsync(t => t.OrganizationId == organization.Id && t.Name == DefaultTeamName, cancellationToken);
        if (team is null)
        {
            team = Team.Create(Guid.NewGuid(), organization.Id, DefaultTeamName, now);
            context.Teams.Add(team);
        }

        var email = User.NormalizeEmail(settings.OperatorEmail);
        var operatorUser = await context.Users.SingleOrDefaultAsync(u => u.Email == email, cancellationToken);
        string? oneTimePassword = null;
        if (operatorUser is null)
        {
            operatorUser = User.Create(Guid.NewGuid(), email, "Operator", null, isPlatformOperator: true, now);
            var password = settings.OperatorPassword;
            if (string.IsNullOrEmpty(password))
            {
                oneTimePassword = ApiKeySecrets.NewSecret()[..20];
                password = oneTimePassword;
            }

            operatorUser.SetPasswordHash(passwords.HashPassword(operatorUser, password), mustChange: oneTimePassword is not null);
            context.Users.Add(operatorUser);
            context.OrganizationMemberships.Add(OrganizationMembership.Create(organization.Id, operatorUser.Id, OrganizationRole.OrganizationAdmin, now));
            context.TeamMemberships.Add(TeamMembership.Create(team.Id, operatorUser.Id, TeamRole.TeamAdmin, now));
        }

        var bootstrapCreated = false;
        if (!string.IsNullOrWhiteSpace(settings.ApiKey)
            && !await context.ApiKeys.AnyAsync(k => k.Id == BootstrapKeyId, cancellationToken))
        {
            // The key belongs to the operator, so it can also script the management API; its secret is never logged.
            context.ApiKeys.Add(ApiKey.Create(BootstrapKeyId, "bootstrap", organization.Id, team.Id, operatorUser.Id,
                ApiKeySecrets.Hash(settings.ApiKey.Trim()), ApiKeyRole.InferenceAdmin, null, null, now));
            bootstrapCreated = true;
        }

        await context.SaveChangesAsync(cancellationToken);
        if (oneTimePassword is not null)
        {
            Log.OneTimePassword(logger, email, oneTimePassword);
        }

        if (bootstrapCreated)
        {
            Log.BootstrapKeyCreated(logger, BootstrapKeyId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning,
            "FIRST START: operator account {Email} created with the one-time password {Password} - sign in and change it now; it is not shown again")]
        public static partial void OneTimePassword(ILogger logger, string email, string password);

        [LoggerMessage(2, LogLevel.Information, "Bootstrap API key [{KeyId}] created for the default team (role inference_admin)")]
        public static partial void BootstrapKeyCreated(ILogger logger, string keyId);
    }
}
