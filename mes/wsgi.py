import os

from django.core.wsgi import get_wsgi_application

from mes.bootstrap import prepare

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
prepare()
application = get_wsgi_application()
