app_name = "campagnes"

urlpatterns = []
