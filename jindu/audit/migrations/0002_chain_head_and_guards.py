from django.db import migrations


def create_head(apps, schema_editor):
    head = apps.get_model("audit", "AuditChainHead")
    head.objects.create(pk=1, seq=0, hash="0" * 64, anchor_seq=0, anchor_hash="0" * 64)


def install_guards(apps, schema_editor):
    from jindu.audit import dbguards

    dbguards.install(schema_editor.connection)


def remove_guards(apps, schema_editor):
    from jindu.audit import dbguards

    dbguards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_guards, remove_guards),
    ]
