// Written by hand (EF Core design-time tools are not available here). The model snapshot beside it must
// describe the same schema; tests check both against the model and against a real database.
#pragma warning disable CA1861 // migration operations take literal column arrays, as EF-generated migrations do
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.PostgreSql.Migrations;

/// <summary>
/// Identity and tenancy: API keys carry their organization (for the tenant filter), users may have to change a one-time
/// password, and the audit trail of administrative actions.
/// </summary>
[DbContext(typeof(WebConsoleDbContext))]
[Migration("20261122000000_Identity")]
public sealed class Identity : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<bool>(
            name: "MustChangePassword",
            table: "Users",
            type: "boolean",
            nullable: false,
            defaultValue: false);

        // No release before this one could create API keys (there was no authentication), so the table is empty
        // everywhere: it is recreated with its organization rather than rebuilt column by column, which SQLite cannot do
        // for a new foreign key.
        migrationBuilder.DropTable(name: "ApiKeys");

        migrationBuilder.CreateTable(
            name: "ApiKeys",
            columns: table => new
            {
                Id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                AllowedEndpoints = table.Column<string>(type: "text", nullable: false),
                CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                InvalidatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                Role = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                SecretHash = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                TeamId = table.Column<Guid>(type: "uuid", nullable: false),
                UserId = table.Column<Guid>(type: "uuid", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ApiKeys", x => x.Id);
                table.ForeignKey(
                    name: "FK_ApiKeys_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id");
                table.ForeignKey(
                    name: "FK_ApiKeys_Teams_TeamId",
                    column: x => x.TeamId,
                    principalTable: "Teams",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_ApiKeys_Users_UserId",
                    column: x => x.UserId,
                    principalTable: "Users",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "AuditEntries",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "uuid", nullable: false),
                Action = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                ActorApiKeyId = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                ActorName = table.Column<string>(type: "character varying(254)", maxLength: 254, nullable: false),
                ActorUserId = table.Column<Guid>(type: "uuid", nullable: true),
                Details = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                OccurredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                RemoteAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                ResourceId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                ResourceType = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                UserAgent = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_AuditEntries", x => x.Id);
                table.ForeignKey(
                    name: "FK_AuditEntries_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_ApiKeys_OrganizationId",
            table: "ApiKeys",
            column: "OrganizationId");

        migrationBuilder.CreateIndex(
            name: "IX_ApiKeys_TeamId",
            table: "ApiKeys",
            column: "TeamId");

        migrationBuilder.CreateIndex(
            name: "IX_ApiKeys_UserId",
            table: "ApiKeys",
            column: "UserId");

        migrationBuilder.CreateIndex(
            name: "IX_AuditEntries_OrganizationId_OccurredAt",
            table: "AuditEntries",
            columns: new[] { "OrganizationId", "OccurredAt" });
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "AuditEntries");

        migrationBuilder.DropIndex(name: "IX_ApiKeys_OrganizationId", table: "ApiKeys");

        migrationBuilder.DropForeignKey(name: "FK_ApiKeys_Organizations_OrganizationId", table: "ApiKeys");

        migrationBuilder.DropColumn(name: "OrganizationId", table: "ApiKeys");

        migrationBuilder.DropColumn(name: "MustChangePassword", table: "Users");
    }
}
