using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class UsageAndAllowlists : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AllowedNetworks",
                table: "ApiKeys",
                type: "character varying(2200)",
                maxLength: 2200,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTime>(
                name: "ReportedExposedAtUtc",
                table: "ApiKeys",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "KeyUsageAddresses",
                columns: table => new
                {
                    ApiKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    Address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    FirstSeenUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeenUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Requests = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyUsageAddresses", x => new { x.ApiKeyId, x.Address });
                    table.ForeignKey(
                        name: "FK_KeyUsageAddresses_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "KeyUsageHours",
                columns: table => new
                {
                    ApiKeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    HourUtc = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Endpoint = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Outcome = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    EndpointGroup = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Scope = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Requests = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyUsageHours", x => new { x.ApiKeyId, x.HourUtc, x.Endpoint, x.Outcome });
                    table.ForeignKey(
                        name: "FK_KeyUsageHours_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KeyUsageAddresses_LastSeenUtc",
                table: "KeyUsageAddresses",
                column: "LastSeenUtc");

            migrationBuilder.CreateIndex(
                name: "IX_KeyUsageHours_HourUtc",
                table: "KeyUsageHours",
                column: "HourUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KeyUsageAddresses");

            migrationBuilder.DropTable(
                name: "KeyUsageHours");

            migrationBuilder.DropColumn(
                name: "AllowedNetworks",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "ReportedExposedAtUtc",
                table: "ApiKeys");
        }
    }
}
