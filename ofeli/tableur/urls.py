app_name = "tableur"

urlpatterns = []
