from django.db import migrations, models


def install_guards(apps, schema_editor):
    # install() is idempotent: it adds the chain-head guards next to the
    # audit-table guards that 0002 installed.
    from jindu.audit import dbguards

    dbguards.install(schema_editor.connection)


def remove_head_guards(apps, schema_editor):
    from jindu.audit import dbguards

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, trigger in dbguards.PG_TRIGGERS:
                if table == "audit_chain_head":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        else:
            for name in dbguards.SQLITE_TRIGGERS:
                if name.startswith("audit_chain_head"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_chain_head_and_guards'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['object_type', 'object_id'], name='audit_event_object_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['client_address'], name='audit_event_client_idx'),
        ),
        migrations.RunPython(install_guards, remove_head_guards),
    ]
