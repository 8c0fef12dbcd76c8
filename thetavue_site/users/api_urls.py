app_name = "users-api"
urlpatterns: list = []
