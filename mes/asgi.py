import os

from django.core.asgi import get_asgi_application

from mes.bootstrap import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
prepare()
application = get_asgi_application()
