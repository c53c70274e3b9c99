using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FoldedKeyNames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The search form is now Unicode full case folding, which SQL cannot compute the same way on both
            // providers: emptied here, filled in at start-up (DatabaseSetup.FillFoldedNamesAsync).
            migrationBuilder.Sql("UPDATE \"ApiKeys\" SET \"NormalizedName\" = '';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Back to the earlier upper-cased form (upper() is ASCII-only on SQLite, as close as SQL gets).
            migrationBuilder.Sql("UPDATE \"ApiKeys\" SET \"NormalizedName\" = upper(\"Name\");");
        }
    }
}
